"""The emulator's own API under ``/_emulator/``."""
