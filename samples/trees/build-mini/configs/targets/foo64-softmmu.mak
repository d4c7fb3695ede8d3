# the 64-bit flavour shares target/foo
TARGET_ARCH=foo64
TARGET_BASE_ARCH=foo
TARGET_LONG_BITS=64
