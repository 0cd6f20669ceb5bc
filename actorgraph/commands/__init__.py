"""Sub-commands of ``actorgraph``: each module defines ``register(subparsers)``."""
