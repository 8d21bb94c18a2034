"""The notebooks' models, defined once. Also: :mod:`~bayeskit.models.santa`,
:mod:`~bayeskit.models.posteriordb`, :mod:`~bayeskit.models.switchpoint`."""

from bayeskit.models.gifts import (
    FOUR_GIFT_BAGS,
    TEN_GIFT_BAGS,
    GiftModel,
    design_matrix,
    four_gift_model,
    ten_gift_model,
)

__all__ = ["FOUR_GIFT_BAGS", "TEN_GIFT_BAGS", "GiftModel", "design_matrix", "four_gift_model", "ten_gift_model"]
