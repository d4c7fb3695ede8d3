"""Stage 1 (discover): what the tree holds.

:mod:`.files` (the walk and excludes), :mod:`.tokens` (the token index),
:mod:`.revisions` (a tree at a git revision) and :mod:`.git` (the one git runner).
"""
