// Entry point of `loom-torch`: the one executable that links libtorch.
LoomTorch.main()
