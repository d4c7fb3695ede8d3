"""Stage 2 (frontends), libclang precise mode: a translation unit → facts."""
