"""Strategy and launch: positioning, competitors and the comparison grid, market sizes, the
revenue model and price plans, the business case, and launch readiness (checklist template,
release checklists, shipping).
"""
