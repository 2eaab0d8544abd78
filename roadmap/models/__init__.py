from .evidence import Importance, Insight, InsightSource, Objective
from .feature import (
    IMPACT_CHOICES,
    WSJF_SCALE,
    Feature,
    FeatureDriverScore,
    FeatureRankSnapshot,
    FeatureStatus,
    Kano,
    MoSCoW,
    Tag,
)
from .product import Persona, Product, ReachSource, ScoringDriver, ScoringFramework, TieBreak
from .roadmap import Horizon, Lane, Release, ReleaseStatus, RoadmapItem, Visibility

__all__ = [
    "IMPACT_CHOICES",
    "WSJF_SCALE",
    "Feature",
    "FeatureDriverScore",
    "FeatureRankSnapshot",
    "FeatureStatus",
    "Horizon",
    "Importance",
    "Insight",
    "InsightSource",
    "Kano",
    "Lane",
    "MoSCoW",
    "Objective",
    "Persona",
    "Product",
    "ReachSource",
    "Release",
    "ReleaseStatus",
    "RoadmapItem",
    "ScoringDriver",
    "ScoringFramework",
    "Tag",
    "TieBreak",
    "Visibility",
]
