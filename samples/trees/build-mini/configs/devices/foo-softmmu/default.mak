# Default configuration for foo-softmmu
include common.mak
