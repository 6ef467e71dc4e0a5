"""Pages and endpoints that are not the Requester API: health, and (later) the worker side."""
