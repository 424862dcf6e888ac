// Entry point of `loom-bench`: the benchmarks' and developer probes' executable, built beside `loom` and
// `loom-torch` but never shipped as a user's tool (bench/*/run and the tests start it).
LoomBench.main()
