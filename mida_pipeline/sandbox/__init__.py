"""A local stand-in of both source APIs: real HTTP, deterministic data, injectable faults."""
