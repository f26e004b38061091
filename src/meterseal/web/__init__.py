"""The dashboard: the store's suspicion ranking, meters and feeders as web pages with their JSON
twins, charts drawn on the server as SVG. It reads the head-end's analytics; it never simulates."""
