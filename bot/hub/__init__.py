"""The hub: the public aiohttp entry point that serves the channels and talks to the engine over loopback."""
