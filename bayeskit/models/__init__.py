"""The notebooks' models, defined once."""

from bayeskit.models.gifts import (
    FOUR_GIFT_BAGS,
    TEN_GIFT_BAGS,
    GiftModel,
    design_matrix,
    four_gift_model,
    ten_gift_model,
)

__all__ = ["FOUR_GIFT_BAGS", "TEN_GIFT_BAGS", "GiftModel", "design_matrix", "four_gift_model", "ten_gift_model"]
