"""Stage 2 (frontends), tree-sitter: bytes → tree (:mod:`.parse`) → facts (:mod:`.extract`)."""
