# raft benchmark targets. raft_bench interposes malloc to count
# allocations, which the sanitizers' own allocators forbid.
if(NOT SANITIZE)
  add_executable(raft_bench ${CMAKE_CURRENT_SOURCE_DIR}/raft_bench.c)
  td_strict(raft_bench)
  target_link_libraries(raft_bench PRIVATE raft)
endif()
