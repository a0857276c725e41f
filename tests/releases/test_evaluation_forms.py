"""Evaluation forms that explain themselves: the suite form pre-selects what the tier requires;
each suite's run form asks only for its metrics, with the tier's threshold and the unit; rates
take percentages; typed values survive an error; the message says where the gate stands."""

import pytest
from django import forms

from almportal.releases import services
from almportal.releases.choices import METRICS
from almportal.releases.metric_input import parse_metric
from almportal.releases.models import EvaluationSuite

from ..conftest import client_for
from .helpers import GOOD_METRICS, suite_for

pytestmark = pytest.mark.django_db

RATE, LATENCY = METRICS["task_success_rate"], METRICS["latency_p95_ms"]


@pytest.mark.parametrize(("typed", "metric", "value"), [
    ("95", RATE, 0.95), ("95%", RATE, 0.95), ("0.95", RATE, 0.95), (" 97.5 % ", RATE, 0.975),
    ("1", RATE, 1.0), ("100%", RATE, 1.0), ("0.5%", RATE, 0.005), ("2400", LATENCY, 2400.0),
    ("2,400", LATENCY, 2400.0), ("0", LATENCY, 0.0),
])
def test_how_a_typed_value_is_read(typed, metric, value):
    assert parse_metric(typed, metric) == pytest.approx(value)


@pytest.mark.parametrize(("typed", "metric", "said"), [
    ("150", RATE, "at most 100%"), ("101%", RATE, "at most 100%"), ("abc", RATE, "a number"),
    ("-1", LATENCY, "at least 0"), ("5%", LATENCY, "not a percentage"), ("nan", RATE, "at least"),
])
def test_what_is_refused(typed, metric, said):
    with pytest.raises(forms.ValidationError, match=said):
        parse_metric(typed, metric)


def _small_suite(release):
    return EvaluationSuite.objects.create(
        agent=release.agent, name="smoke", dataset_ref="s3://evals/smoke", dataset_version="1",
        metrics=["task_success_rate", "latency_p95_ms"], created_by=release.agent.business_owner)


def test_the_suite_form_preselects_the_tiers_metrics(client, release, owner):
    client_for(client, owner)
    page = client.get(release.get_absolute_url()).content.decode()
    form = page[page.index("Define an evaluation suite"):]
    for key in GOOD_METRICS:  # the high tier sets a threshold on each
        assert f'value="{key}" id="id_metrics_' in form
        box = form[form.index(f'value="{key}"') - 80:form.index(f'value="{key}"') + 80]
        assert "checked" in box, key
    assert "Pre-selected: the 9 metrics the high tier sets thresholds on" in form


def test_a_run_form_asks_only_for_its_suites_metrics(client, release, owner):
    suite = _small_suite(release)
    client_for(client, owner)
    page = client.get(release.get_absolute_url()).content.decode()
    start = page.index(f'data-run-form="{suite.pk}"')
    form = page[start:page.index("</details>", start)]
    assert form.count('name="run') == 3  # two metrics and the notes
    assert "The high tier requires at least 0.9. Enter a rate from 0 to 1" in form
    assert "The high tier requires at most 8000. Enter milliseconds." in form
    assert "Groundedness" not in form


def test_typed_values_survive_an_error(client, release, owner):
    suite = _small_suite(release)
    client_for(client, owner)
    answer = client.post(f"{release.get_absolute_url()}runs/new/", {
        "suite": suite.pk, f"run{suite.pk}-task_success_rate": "95%",
        f"run{suite.pk}-latency_p95_ms": "fast", f"run{suite.pk}-notes": "nightly"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert 'value="95%"' in page and 'value="fast"' in page and 'value="nightly"' in page
    assert "Enter a number, e.g. 0.95 or 95%." in page
    assert not release.evaluation_runs.exists()


def test_the_message_says_whether_the_gate_condition_is_met(client, release, admin_user,
                                                            owner):
    suite, small = suite_for(release), _small_suite(release)
    client_for(client, admin_user)  # independent of the release: the run counts
    url = f"{release.get_absolute_url()}runs/new/"
    answer = client.post(url, {"suite": small.pk, f"run{small.pk}-task_success_rate": "95",
                               f"run{small.pk}-latency_p95_ms": "2400"}, follow=True)
    text = answer.content.decode()
    waiting = services.release_gate(release).condition("evaluations").waiting
    # The small suite measured two of the tier's metrics; the other seven still wait.
    assert set(waiting) == {METRICS[key].label for key in GOOD_METRICS
                            if key not in ("task_success_rate", "latency_p95_ms")}
    assert ("Run passed — the gate&#x27;s evaluation condition is still missing: "
            + ", ".join(waiting)) in text
    typed = {f"run{suite.pk}-{k}": (f"{v * 100:g}%" if METRICS[k].is_rate else str(v))
             for k, v in GOOD_METRICS.items()}
    answer = client.post(url, {"suite": suite.pk, **typed}, follow=True)
    assert ("Run passed — the gate&#x27;s evaluation condition is now met."
            in answer.content.decode())
    run = release.evaluation_runs.latest("pk")
    assert run.metrics["task_success_rate"] == pytest.approx(0.95)
    client_for(client, owner)  # involved: recorded, shown, but it does not count
    answer = client.post(url, {"suite": small.pk, f"run{small.pk}-task_success_rate": "0.99"},
                         follow=True)
    assert "it does not count towards the gate" in answer.content.decode()


def test_another_user_cannot_record_a_run(client, release, other_owner):
    suite = _small_suite(release)
    client_for(client, other_owner)
    answer = client.post(f"{release.get_absolute_url()}runs/new/",
                         {"suite": suite.pk, f"run{suite.pk}-task_success_rate": "95"})
    assert answer.status_code == 404
    client_for(client, release.agent.business_owner)
    assert client.post(f"{release.get_absolute_url()}runs/new/",
                       {"suite": "x"}).status_code == 404
