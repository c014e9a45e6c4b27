"""The child's own code. `src/agents/` holds its specialisations of the runtime's agents."""
