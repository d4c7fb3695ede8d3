CONFIG_BAR_BOARD=y   # the only board
CONFIG_BAR_MISSPELT maybe
