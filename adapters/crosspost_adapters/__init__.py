"""The built-in platform adapters.

Each module holds one adapter and imports only crosspost's public adapter API,
exactly as a third-party adapter would.
"""
