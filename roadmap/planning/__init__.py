"""Planning, the core: products, features, the roadmap (releases, lanes, items), scoring and
ranking, and the PM's main screens (prioritization table, board, timeline, matrix, feature pages,
product settings).

Other slices use it through ``planning.services``, ``planning.selectors`` and the formulas in
``planning.scoring``; its models are reached through the registry ``roadmap.models``.
"""
