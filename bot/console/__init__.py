"""The helpdesk console: an aiohttp sub-application of the hub, mounted at /console/, for staff and volunteers."""
