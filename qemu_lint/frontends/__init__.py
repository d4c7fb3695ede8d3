"""Stage 2 (parse): front-ends that turn bytes into facts.

``treesitter`` is the default; ``clang`` (precise mode) is optional.
"""
