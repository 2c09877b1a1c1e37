# Replicated-write benchmark helpers, run by tests/bench/replicated.sh:
# floor (the machine's fdatasync latency and loopback round trip) and
# etcd_put (gRPC put load against etcd, HTTP/2 through libnghttp2, which
# tools/deps.sh installs).
add_executable(floor ${CMAKE_CURRENT_SOURCE_DIR}/floor.c)
td_strict(floor)
target_link_libraries(floor PRIVATE Threads::Threads)

pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
add_executable(etcd_put ${CMAKE_CURRENT_SOURCE_DIR}/etcd_put.c)
td_strict(etcd_put)
target_link_libraries(etcd_put PRIVATE PkgConfig::NGHTTP2 Threads::Threads)

# A smoke run of replicated.sh's floor and etcd parts: 2 s per run, about
# 15 s in all, on etcd ports 27681-27686 so that a full benchmark (27671-
# 27676) can run beside it. The script fails unless every figure was
# produced; their values are not judged.
add_test(NAME bench_replicated_smoke
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/replicated.sh ${PROJECT_BINARY_DIR} --duration 2 --only
                 floor,etcd --etcd-port-base 27680)
set_tests_properties(bench_replicated_smoke PROPERTIES TIMEOUT 120 LABELS "bench")
