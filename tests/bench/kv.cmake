# KV benchmark target: kv_bench (the KV API and the transaction coordinator
# over one store, synced), run beside db_bench by tests/bench/kv.sh.
add_executable(kv_bench ${CMAKE_CURRENT_SOURCE_DIR}/kv_bench.c)
td_strict(kv_bench)
target_link_libraries(kv_bench PRIVATE kv Threads::Threads)
