"""Speed, scale and quality runs of the assistant (`make bench`): measurement beside the product, not installed."""
