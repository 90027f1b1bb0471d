"""How long the PDF report of a 300-post-it workshop takes (a figure for `make bench`).

`run()` builds, in a throwaway database (a temporary RECIPROQUE_VAR_DIR, in a
child process so that it never touches the caller's Django setup), a
Diagnostic workshop with 12 participants, 300 post-its over its walls (some
in themes) and a map of 20 actors and 30 flows, all through the real actions.
It then times `workshops.exports.report.write_pdf` and returns
{"postits": 300, "seconds": ..., ...}, printing one line.

    .venv/bin/python bench/report_bench.py
    .venv/bin/python bench/report_bench.py --keep DIR   # DIR/report.pdf, DIR/report.prof
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTITS = 300


def run(keep=None) -> dict:
    with tempfile.TemporaryDirectory(prefix="reciproque-report-bench-") as var_dir:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "DJANGO_SETTINGS_MODULE")
        }
        env.update(RECIPROQUE_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="config.settings")
        if keep:
            env["REPORT_BENCH_KEEP"] = str(Path(keep).resolve())
        child = subprocess.run(
            [sys.executable, __file__, "--child"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if child.returncode != 0:
            raise RuntimeError(f"report bench failed:\n{child.stdout}\n{child.stderr}")
        result = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"report: {result['postits']} post-its, {result['actors']} actors, {result['flows']} flows"
        f" -> PDF of {result['pages']} pages in {result['seconds']:.2f} s"
        f" ({result['cpu_seconds']:.2f} s of CPU; HTML {result['html_seconds']:.2f} s)"
    )
    return result


def _child():
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from django.contrib.auth import get_user_model

    from journeys import actions as journeys
    from mapping import actions as mapping
    from workshops import actions
    from workshops.exports import report
    from workshops.live.hub import hub
    from workshops.models import Profile

    hub.publish = lambda workshop_id, message: None  # nobody is listening
    user = get_user_model().objects.create_user("bench", password="bench-password-123")
    workshop = actions.create_workshop(
        facilitator=user,
        method_key="diagnostic",
        title="Atelier de diagnostic : la DSI et ses services clients",
        observed_service="Direction des systèmes d’information",
        perimeter="Demandes d’intervention, projets applicatifs et support aux directions.",
        intention="Clarifier ce que chacun attend de l’autre.",
        language="fr",
    )
    profiles = list(Profile.values)
    people = [
        actions.join(workshop, display_name=f"Personne {i:02d} Éloïse", profile=profiles[i % 6])
        for i in range(12)
    ]
    stages = list(workshop.stages.all())
    walls = [s for s in stages if s.kind in ("framing", "wall")]
    map_stage = next(s for s in stages if s.kind == "map")

    # The map: 20 actors, 30 flows.
    actions.go_to_stage(workshop, map_stage)
    actors = ["centre"]
    for i in range(19):
        circle = "suppliers" if i % 2 else "clients"
        actor = mapping.add_actor(
            map_stage,
            participant=people[i % 12],
            name=f"Acteur n° {i} — équipe",
            circle=circle,
            scope="external" if i % 3 else "internal",
            description="Un acteur clé de la relation de service.",
        )
        actors.append(str(actor.pk))
    kinds = ["information", "request", "deliverable"]
    for i in range(30):
        source, target = actors[(i % 19) + 1], "centre"
        if i % 2:
            source, target = target, source
        flow = mapping.add_flow(
            map_stage,
            participant=people[i % 12],
            source=source,
            target=target,
            kind=kinds[i % 3],
            label=f"Flux {i} : demandes et réponses",
            they_expect="Des délais annoncés et tenus.",
            we_expect="Des demandes complètes dès le départ.",
            mismatch="Les dossiers s’accumulent et les usagers attendent.",
        )
        mapping.rate_flow(
            flow, participant=people[0], rating=["smooth", "unclear", "friction"][i % 3]
        )

    # 300 post-its over the walls, some grouped into themes.
    for number, stage in enumerate(walls):
        actions.go_to_stage(workshop, stage)
        columns = [c["key"] for c in stage.config.get("columns") or []] or [None]
        colours = stage.config.get("colours") or [None]
        share = range(number, POSTITS, len(walls))
        for index in share:
            journeys.add_postit(
                stage,
                participant=people[index % 12],
                text=f"Post-it {index} : une idée, un irritant ou une attente (éèà).",
                column=columns[index % len(columns)],
                colour=colours[index % len(colours)],
            )
    for stage in walls[:3]:
        theme = journeys.add_cluster(stage, name="Délais et priorités")
        ids = list(stage.postits.values_list("pk", flat=True)[:10])
        journeys.assign_cluster(stage, ids, theme)

    from workshops.models import Workshop

    workshop = Workshop.objects.select_related("facilitator").get(pk=workshop.pk)
    report.write_pdf(workshop, Path(tempfile.gettempdir()) / "reciproque-warmup.pdf")  # fonts
    started = time.perf_counter()
    html = report.report_html(workshop)
    html_seconds = time.perf_counter() - started
    path = Path(os.environ["RECIPROQUE_VAR_DIR"]) / "report.pdf"
    started, cpu = time.perf_counter(), time.process_time()
    report.write_pdf(workshop, path)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    if keep := os.environ.get("REPORT_BENCH_KEEP"):
        # `--keep DIR`: the PDF, and a cProfile of one more rendering, for a look.
        import cProfile
        import shutil

        shutil.copy(path, Path(keep) / "report.pdf")
        cProfile.runctx(
            "report.write_pdf(workshop, path)",
            globals(),
            {"report": report, "workshop": workshop, "path": path},
            str(Path(keep) / "report.prof"),
        )
    pages = _pages(path)
    print(
        json.dumps(
            {
                "postits": workshop.postits.count(),
                "actors": len(actors),
                "flows": 30,
                "pages": pages,
                "html_kb": round(len(html) / 1024),
                "html_seconds": round(html_seconds, 3),
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_seconds, 3),
            }
        )
    )


def _pages(path):
    import shutil

    if not shutil.which("pdfinfo"):
        return None
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    return next(
        (int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:")), None
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    elif "--keep" in sys.argv:
        run(keep=sys.argv[sys.argv.index("--keep") + 1])
    else:
        run()
