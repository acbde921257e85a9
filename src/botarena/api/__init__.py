"""What every HTTP route shares: base schema, error bodies, dependencies, pagination."""
