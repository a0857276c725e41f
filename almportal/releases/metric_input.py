"""How a person types an evaluation metric into the run form.

The rule for rates (metrics measured from 0 to 1): a value with a "%" suffix is a percentage,
and so is any value above 1 (a rate cannot be above 1, so 95 can only mean 95%); a percentage
is divided by 100, so "95", "95%" and "0.95" all record 0.95. A percentage above 100 is
refused. Other metrics (milliseconds, cost, tokens) take plain numbers; "%" is refused for
them. Commas as thousands separators are ignored. The API takes numbers as they are."""

from django import forms

from .choices import Metric


def parse_metric(text: str, metric: Metric) -> float:
    """The value `text` records for `metric` (see the module's rule), or a ValidationError."""
    raw = text.strip().replace(",", "").replace(" ", "")
    percent = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        raise forms.ValidationError("Enter a number, e.g. 0.95 or 95%.", code="invalid") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise forms.ValidationError("Enter a number of at least 0.", code="invalid")
    if percent and not metric.is_rate:
        raise forms.ValidationError(f"{metric.label} is not a percentage: enter "
                                    f"{metric.unit}.", code="percent")
    if metric.is_rate and (percent or value > 1):
        if value > 100:
            raise forms.ValidationError("A rate is at most 100%.", code="rate")
        return round(value / 100, 10)
    return value


class MetricField(forms.CharField):
    """A metric typed as a person writes it; cleans to a float (or None when left empty)."""

    def __init__(self, metric: Metric, **kwargs) -> None:
        self.metric = metric
        super().__init__(required=False, max_length=32, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        return parse_metric(text, self.metric) if text else None
