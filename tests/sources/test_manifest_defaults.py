"""Which defaults apply to a job: the place and the machine a job names itself are never mixed with defaults."""

from __future__ import annotations

from ci_carbon.sources import manifest as manifest_source


def test_defaults_fill_what_a_job_leaves_out(manifest):
    specs, problems = manifest_source.read(str(manifest("""\
        version: 1
        defaults: {provider: gcp, region: us-central1, hardware: T4, count: 2, tags: {team: a}}
        jobs:
          - {name: plain, hours: 1}
          - {name: own-country, hours: 1, country: DE}
          - {name: other-provider, hours: 1, provider: aws}
          - {name: instance, hours: 1, instance_type: p4d.24xlarge, provider: aws, region: us-east-1}
          - {name: own-hardware, hours: 1, hardware: L4, tags: {project: b}}
        """)))
    assert problems == []
    got = {s.name: s for s in specs}
    assert (got["plain"].provider, got["plain"].region, got["plain"].hardware, got["plain"].count) == (
        "gcp", "us-central1", "T4", 2)
    assert (got["own-country"].provider, got["own-country"].region, got["own-country"].country) == ("gcp", None, "DE")
    assert (got["other-provider"].provider, got["other-provider"].region) == ("aws", None)
    assert (got["instance"].hardware, got["instance"].count) == (None, None)
    assert (got["own-hardware"].hardware, got["own-hardware"].count) == ("L4", 2)
    assert dict(got["own-hardware"].tags) == {"team": "a", "project": "b"}
