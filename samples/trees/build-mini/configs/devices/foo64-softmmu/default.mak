include ../foo-softmmu/default.mak
# the legacy board is 32-bit only
CONFIG_FOO_LEGACY=n
