"""search-sync: customer changes → the search view (embedded bigram index or OpenSearch)."""
