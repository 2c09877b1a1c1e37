/*
 * expr_func_time.c - placeholder
 */
#include "sql/expr_int.h"
const sql__fn_set sql__fn_set_time = {NULL, 0, NULL, 0};
