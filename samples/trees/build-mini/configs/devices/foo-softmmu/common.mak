# boards every foo flavour wants
CONFIG_FOO_VIRT=y
