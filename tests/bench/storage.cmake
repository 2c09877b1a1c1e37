# storage benchmark targets: storage_bench (kv/ MVCC over RocksDB), run
# beside db_bench by tests/bench/storage.sh.
add_executable(storage_bench ${CMAKE_CURRENT_SOURCE_DIR}/storage_bench.c)
td_strict(storage_bench)
target_link_libraries(storage_bench PRIVATE kv)
