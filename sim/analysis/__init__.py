"""Layer 5, analysis and presentation: comparisons, figures, maps, the report and the page."""
