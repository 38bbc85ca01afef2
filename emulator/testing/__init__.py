"""Test-side faces of the emulator: live server, handle, pytest plugin."""
