"""`exgen practice`: the web app's API through Flask's test client, and the page in a real browser."""

from __future__ import annotations

import json
import threading

import pytest

from conftest import needs
from exgen.generate import generate
from exgen.grading.grade import expected_text, mistakes_of
from exgen.practice.app import create_app
from exgen.practice.progress import Progress
from exgen.render import Renderer


@pytest.fixture
def client(tmp_path):
    return create_app(tmp_path / "progress.sqlite").test_client()


def ident(topic, variant, difficulty="easy", seed=3):
    return {"topic": topic, "variant": variant, "difficulty": difficulty, "seed": seed}


def check(client, problem, answers):
    return client.post("/api/check", json={"problem": problem, "answers": answers})


# one problem per answer kind: number and matrix, integer, vector, choice, expression
KINDS = [ident("quantization", "affine"), ident("quantization", "per_channel"), ident("intensity", "bound"),
         ident("parallelism", "homework2", "medium")]


@pytest.mark.parametrize("problem", KINDS, ids=lambda p: p["variant"])
def test_the_key_as_printed_is_correct_for_every_answer_kind(client, problem):
    key = generate(problem["topic"], problem["variant"], problem["difficulty"], problem["seed"])
    answers = {p.id: expected_text(p.answer) for p in key.solution.parts}
    results = check(client, problem, answers).get_json()["results"]
    assert {pid: r["verdict"] for pid, r in results.items()} == {pid: "correct" for pid in answers}


def test_a_named_mistake_is_wrong_and_named(client):
    problem = ident("quantization", "affine")
    key = generate("quantization", "affine", "easy", 3)
    part, mistakes = next((pid, m) for pid, m in mistakes_of(key).items() if m and pid == "zero_point")
    mistake, wrong = mistakes[0]
    result = check(client, problem, {part: str(wrong)}).get_json()["results"][part]
    assert result["verdict"] == "wrong" and result["mistake"] == mistake.name
    assert mistake.explanation in result["message"]


def test_a_new_problem_never_carries_its_key(client):
    data = client.post("/api/problem", json={"topics": ["quantization"], "variant": "affine"}).get_json()
    assert set(data) == {"problem", "question", "parts", "command"}
    assert f"--seed {data['problem']['seed']}" in data["command"]
    for spec in data["parts"]:  # what an input needs, and nothing of the answer
        assert set(spec) <= {"id", "label", "kind", "unit", "precision", "shape", "choices", "symbols"}
    key = generate("quantization", "affine", data["problem"]["difficulty"], data["problem"]["seed"])
    assert data["question"] == Renderer("html").question(key)  # the question, not its solution


def test_matrices_and_vectors_come_with_their_shape_only(client):
    data = client.post("/api/problem", json={"topics": ["quantization"], "variant": "per_channel"}).get_json()
    kinds = {p["kind"]: p for p in data["parts"]}
    assert len(kinds["vector"]["shape"]) == 1


def test_the_solution_is_served_on_request(client):
    data = client.post("/api/solution", json={"problem": ident("compute", "matmul")}).get_json()
    assert "<p>" in data["solution"] and data["expected"]


@pytest.mark.parametrize("body,message", [
    ({"problem": ident("nope", "affine"), "answers": {"scale": "1"}}, "unknown topic"),
    ({"problem": ident("quantization", "nope"), "answers": {"scale": "1"}}, "no variant"),
    ({"problem": {**ident("quantization", "affine"), "seed": -1}, "answers": {"scale": "1"}}, "seed"),
    ({"problem": {**ident("quantization", "affine"), "seed": True}, "answers": {"scale": "1"}}, "seed"),
    ({"problem": ident("quantization", "affine"), "answers": {"nope": "1"}}, "no part"),
    ({"problem": ident("quantization", "affine"), "answers": {"scale": ["1"]}}, "text"),
    ({"problem": ident("quantization", "affine"), "answers": {"scale": " "}}, "at least one"),
    ({"problem": ident("quantization", "affine"), "answers": []}, "expected answers"),
    ([1, 2], "JSON object"),
])
def test_bad_requests_get_a_4xx_with_a_message(client, body, message):
    response = client.post("/api/check", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]


@pytest.mark.parametrize("body,message", [
    ({"topics": ["quantization"], "variant": ["x"]}, "variant must be"),
    ({"topics": ["quantization"], "variant": {"a": 1}}, "variant must be"),
    ({"topics": [["quantization"]]}, "topics must be"),
    ({"topics": "quantization"}, "topics must be"),
    ({"topics": ["quantization"], "difficulty": ["easy"]}, "difficulty must be"),
    ({"topics": ["quantization"], "mode": ["weakest"]}, "mode must be"),
    ({"topics": ["quantization"], "mode": "worst"}, "mode must be"),
    ({"topics": ["quantization", "compute"], "variant": "nope"}, "none of the topics quantization, compute"),
])
def test_a_bad_problem_request_gets_a_4xx_with_a_message(client, body, message):
    response = client.post("/api/problem", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]


@pytest.mark.parametrize("mode", ["pick", "weakest"])
def test_a_variant_with_several_topics_is_drawn_among_the_topics_that_have_it(client, mode):
    """'affine' is quantization's only; 'memory' is compute's and inference's: never a topic that lacks it."""
    for _ in range(12):
        body = {"topics": ["compute", "quantization"], "variant": "affine", "mode": mode}
        problem = client.post("/api/problem", json=body).get_json()["problem"]
        assert (problem["topic"], problem["variant"]) == ("quantization", "affine")
    drawn = {client.post("/api/problem", json={"topics": ["compute", "inference", "quantization"],
                                                "variant": "memory"}).get_json()["problem"]["topic"]
             for _ in range(24)}
    assert drawn <= {"compute", "inference"} and drawn


def test_malformed_json_a_huge_body_and_unknown_routes_are_refused_with_a_message(client):
    assert client.post("/api/check", data="{", content_type="application/json").status_code == 400
    huge = client.post("/api/check", data="x" * 200_000, content_type="application/json")
    assert huge.status_code == 413 and "error" in huge.get_json()
    assert client.get("/api/nothing").status_code == 404 and "error" in client.get("/api/nothing").get_json()
    assert client.get("/api/check").status_code == 405


def test_unreadable_student_text_is_invalid_not_an_error(client):
    result = check(client, ident("quantization", "affine"), {"scale": "__import__('os')"}).get_json()
    assert result["results"]["scale"]["verdict"] == "invalid"


# ---- feedback -----------------------------------------------------------------------------------------


def _message(client, problem, part, answer):
    return check(client, problem, {part: answer}).get_json()["results"][part]


def test_a_number_right_but_to_fewer_digits_than_asked_says_the_precision_asked(client):
    problem = ident("quantization", "per_channel")
    key = generate("quantization", "per_channel", "easy", 3).solution.part("error_rows").answer
    assert key.sig == 3
    coarse = f"{key.value:.1e}"  # the key correctly rounded to 2 significant figures
    result = _message(client, problem, "error_rows", coarse)
    assert result["verdict"] == "wrong"
    assert "Right to 2 significant figures, but the question asks for 3" in result["message"]
    off = f"{key.value * 1.2:.1e}"  # fewer digits and wrong: no such claim
    assert "Right to" not in _message(client, problem, "error_rows", off)["message"]


def test_a_matrix_with_a_wrong_entry_says_which(client):
    problem = ident("quantization", "affine")
    key = generate("quantization", "affine", "easy", 3).solution.part("q").answer
    rows = [[str(x) for x in row] for row in key.value]
    rows[1][2] = str(int(rows[1][2]) + 1)
    result = _message(client, problem, "q", "; ".join(" ".join(row) for row in rows))  # as `exgen grade` reads it
    assert result == _message(client, problem, "q", rows)  # as the page sends it, cell by cell
    assert result["verdict"] == "partial" and "8 of 9 entries are right" in result["message"]
    assert "wrong: row 2, column 3." in result["message"]


def test_a_grid_with_an_empty_cell_or_two_numbers_in_a_cell_names_the_cell(client):
    problem = ident("quantization", "affine")
    rows = [[str(x) for x in row] for row in
            generate("quantization", "affine", "easy", 3).solution.part("reconstruction").answer.value]
    empty = [row[:] for row in rows]
    empty[0][1] = " "
    result = _message(client, problem, "reconstruction", empty)
    assert result["verdict"] == "invalid" and "row 1, column 2 is empty" in result["message"]
    comma = [row[:] for row in rows]
    comma[2][0] = "0,5"
    result = _message(client, problem, "reconstruction", comma)
    assert result["verdict"] == "invalid" and "row 3, column 1 holds '0,5'" in result["message"]
    assert "write 0.5" in result["message"] and "different numbers" not in result["message"]
    assert check(client, problem, {"reconstruction": [["", ""], [""]]}).status_code == 400  # nothing answered
    assert check(client, problem, {"scale": [["1"]]}).status_code == 400  # a grid for a number part


def test_a_vectors_unreadable_entry_is_named_as_a_vectors_entry(client):
    result = _message(client, ident("quantization", "per_channel"), "scale_rows", [["2.6", "x", "1.8"]])
    assert result["verdict"] == "invalid" and "entry 2: 'x' is not a number" in result["message"]
    assert "matrix" not in result["message"]
    typed = _message(client, ident("quantization", "per_channel"), "scale_rows", "2.6, x, 1.8")
    assert "entry 2: 'x' is not a number" in typed["message"] and "matrix" not in typed["message"]


def _right(problem):
    key = generate(problem["topic"], problem["variant"], problem["difficulty"], problem["seed"])
    return {p.id: expected_text(p.answer) for p in key.solution.parts}


def _row(client, variant="affine"):
    row = next(r for r in client.get("/api/progress").get_json()["progress"] if r["variant"] == variant)
    return row["attempts"], row["correct"], row["parts"], row["streak"]


def test_checking_one_problem_again_and_again_is_one_attempt(client):
    problem = ident("quantization", "affine")
    right = _right(problem)
    for _ in range(5):
        check(client, problem, right)
    assert _row(client) == (1, len(right), len(right), 1)


def test_a_problem_is_solved_only_when_every_part_is_right(client):
    a, b, c = (ident("quantization", "affine", seed=s) for s in (1, 2, 3))
    first, *others = _right(a)
    check(client, a, {first: _right(a)[first]})  # one part answered, right: not solved
    n = len(others) + 1
    assert _row(client) == (1, 1, n, 0)
    check(client, b, _right(b))  # a newer problem solved: the unsolved one before it ends the streak there
    check(client, c, {first: "12345"})  # still open: neither counts nor breaks the streak
    assert _row(client) == (3, 1 + n, 3 * n, 1)
    check(client, c, _right(c))  # right on the second try: solved
    assert _row(client) == (3, 1 + 2 * n, 3 * n, 2)
    check(client, a, _right(a))  # parts right in different checks, before the solution: solved too
    assert _row(client) == (3, 3 * n, 3 * n, 3)


def test_a_check_after_the_solution_was_shown_is_graded_but_not_counted(client):
    solved, shown = ident("quantization", "affine", seed=1), ident("quantization", "affine", seed=2)
    check(client, solved, _right(solved))
    client.post("/api/solution", json={"problem": solved})  # reading the solution of a solved problem costs nothing
    first = next(iter(_right(shown)))
    check(client, shown, {first: "12345"})
    n = len(_right(shown))
    assert _row(client) == (2, n, 2 * n, 1)  # the newest is still open
    client.post("/api/solution", json={"problem": shown})
    assert _row(client) == (2, n, 2 * n, 0)  # shown before it was solved: the streak ends
    data = check(client, shown, _right(shown)).get_json()
    assert all(r["verdict"] == "correct" for r in data["results"].values()) and data["recorded"] is False
    assert _row(client) == (2, n, 2 * n, 0)
    assert check(client, solved, _right(solved)).get_json()["recorded"] is False


def test_reset_forgets_the_progress(client):
    check(client, ident("quantization", "affine"), _right(ident("quantization", "affine")))
    assert _row(client)[0] == 1
    client.post("/api/reset", json={})
    assert _row(client) == (0, 0, 0, 0)


def test_weakest_first_draws_the_variant_answered_worst(tmp_path):
    progress = Progress(tmp_path / "p.sqlite")
    variants = [("compute", "matmul"), ("compute", "memory"), ("compute", "zero")]
    progress.record("compute", "matmul", "easy", 1, {"forward": "correct", "backward": "correct"})
    progress.record("compute", "memory", "easy", 1, {"weights": "wrong"})
    progress.record("compute", "zero", "easy", 1, {"stage1": "correct"})
    assert progress.weakest(variants) == ("compute", "memory")
    app = create_app(tmp_path / "p.sqlite", ("compute",))
    drawn = app.test_client().post("/api/problem", json={"topics": ["compute"], "mode": "weakest"}).get_json()
    assert drawn["problem"]["variant"] == "memory"


def test_two_tabs_grade_their_own_problems(client):
    """No session: each request names its problem, so interleaved tabs never see each other's."""
    a, b = ident("compute", "matmul", seed=1), ident("compute", "matmul", seed=2)
    key_a, key_b = (generate("compute", "matmul", "easy", s) for s in (1, 2))
    part = key_a.solution.parts[0].id
    assert check(client, a, {part: expected_text(key_a.solution.part(part).answer)}).get_json()["results"][part][
        "verdict"] == "correct"
    assert check(client, b, {part: expected_text(key_b.solution.part(part).answer)}).get_json()["results"][part][
        "verdict"] == "correct"


def test_the_page_and_katex_are_served_locally(client):
    page = client.get("/").get_data(as_text=True)
    assert "katex.min.js" in page and "https://" not in page
    assert client.get("/katex/katex.min.js").status_code == 200
    assert client.get("/katex/../../cli.py").status_code == 404
    css = client.get("/document.css")  # the static pages' stylesheet, shared rather than copied
    assert "/document.css" in page and css.mimetype == "text/css"
    assert ".katex:not(.katex-display > .katex):has(.mtable)" in css.get_data(as_text=True)


def test_a_busy_port_gets_a_clear_message():
    import socket

    from click.testing import CliRunner

    from exgen.cli import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["practice", "--no-browser", "--port", str(port)])
    assert result.exit_code == 2 and f"port {port} is busy" in result.output and f"--port {port + 1}" in result.output


def _port_in_time_wait() -> int:
    """A port whose last connection the server side closed first, as after Ctrl-C: TIME-WAIT, nothing listening."""
    import socket

    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the last run's server had it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first: its side of the connection waits in TIME-WAIT
        client.close()
    return port


def test_a_restart_right_after_ctrl_c_finds_its_port_free(tmp_path, monkeypatch):
    """The probe sets SO_REUSEADDR as the real server does, so a port left in TIME-WAIT is not 'busy'."""
    import socket

    from click.testing import CliRunner
    from werkzeug.serving import BaseWSGIServer

    from exgen.cli import cli

    port = _port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):  # what the probe met before: the port looks taken
        plain.bind(("127.0.0.1", port))
    served = []

    def serve(server, *_, **__):  # the real server, bound, then closed at once
        served.append(server.port)
        server.server_close()

    monkeypatch.setattr(BaseWSGIServer, "serve_forever", serve)
    result = CliRunner().invoke(cli, ["practice", "--no-browser", "--port", str(port),
                                      "--data", str(tmp_path / "p.sqlite")])
    assert result.exit_code == 0, result.output
    assert served == [port]


# ---- in a real browser ------------------------------------------------------------------------------------


PHONE_WIDTH = 400


def phone(driver) -> None:
    """A phone's screen: a window cannot be this narrow (headless chromium's least is 500 px)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": PHONE_WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": True})


def phone_browser():
    """Debian's chromium, headless, with a phone's screen (the caller quits it)."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=800,900"):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService("/usr/bin/chromedriver"))
    phone(driver)
    return driver


@pytest.fixture
def server(tmp_path):
    from werkzeug.serving import make_server

    app = create_app(tmp_path / "progress.sqlite", ("quantization",))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


def _request(url, method, path, body=b"", headers=()):
    """A real HTTP request with exactly the headers given (as another page, or another site, would send)."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host="Host" in dict(headers))
        for name, value in dict(headers, **{"Content-Length": str(len(body))}).items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _attempts(server):
    status, data = _request(server, "GET", "/api/progress")
    return sum(row["attempts"] for row in data["progress"])


@pytest.mark.parametrize("content_type,body", [
    ("text/plain", b"x"),  # fetch(..., {mode: "no-cors"}) from any page: sent without a preflight
    ("application/x-www-form-urlencoded", b"a=1"),  # a <form method=post> on any page
    ("multipart/form-data; boundary=b", b"--b--"),
    (None, b""),
])
def test_a_post_a_browser_could_send_cross_site_is_refused(server, content_type, body):
    key = generate("quantization", "affine", "easy", 3)
    own = {"Origin": server.rstrip("/"), "Content-Type": "application/json"}
    answers = json.dumps({"problem": ident("quantization", "affine"),
                          "answers": {p.id: expected_text(p.answer) for p in key.solution.parts}}).encode()
    assert _request(server, "POST", "/api/check", answers, own)[0] == 200
    headers = {"Content-Type": content_type} if content_type else {}
    for path in ("/api/reset", "/api/check", "/api/problem", "/api/solution"):
        status, data = _request(server, "POST", path, body, headers)
        assert status == 415 and "Content-Type: application/json" in data["error"]
    assert _attempts(server) == 1  # the progress is still there


@pytest.mark.parametrize("headers", [
    {"Origin": "null"},  # a file:// page
    {"Origin": "http://evil.example"},
    {"Origin": "http://127.0.0.1:1"},  # another local server
])
def test_json_from_another_page_is_refused_and_the_pages_own_is_accepted(server, headers):
    own = server.rstrip("/")
    status, data = _request(server, "POST", "/api/reset", b"{}", {"Content-Type": "application/json", **headers})
    assert status == 403 and "another page" in data["error"]
    assert _request(server, "POST", "/api/reset", b"{}", {"Content-Type": "application/json", "Origin": own}) == (
        200, {"ok": True})


def test_another_sites_name_for_this_address_is_refused(server):
    """DNS rebinding: evil.example resolving to 127.0.0.1 sends its own name as Host, even on a GET."""
    port = server.rstrip("/").rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{int(port) + 1}"):
        assert _request(server, "GET", "/api/progress", headers={"Host": host})[0] == 403
        status, data = _request(server, "POST", "/api/reset", b"{}",
                                {"Host": host, "Content-Type": "application/json"})
        assert status == 403 and "127.0.0.1" in data["error"]
    assert _request(server, "GET", "/api/progress", headers={"Host": f"localhost:{port}"})[0] == 200


@pytest.mark.slow
@needs("chromium")
def test_a_student_answers_in_the_browser_and_sees_verdicts_feedback_and_the_solution(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = phone_browser()
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(server)
        wait.until(lambda d: d.find_element(By.ID, "meta").text.startswith("quantization"))
        # pick a variant with number parts (the first problem's variant is drawn at random), as a student would
        Select(driver.find_element(By.ID, "variant")).select_by_value("affine")
        driver.find_element(By.ID, "new").click()
        wait.until(lambda d: " · affine · " in d.find_element(By.ID, "meta").text)
        meta = driver.find_element(By.ID, "meta").text
        variant, difficulty, seed = meta.split(" · ")[1], meta.split(" · ")[2], int(meta.split("seed ")[1].split()[0])
        key = generate("quantization", variant, difficulty, seed)
        mistakes = mistakes_of(key)
        parts = [p for p in key.solution.parts if p.answer.kind in ("number", "integer")]
        wrong_part = next(p for p in parts if mistakes.get(p.id))  # affine always has named mistakes
        right = next(p for p in parts if p is not wrong_part)
        driver.find_element(By.CSS_SELECTOR, f'div.input[data-part="{right.id}"] input').send_keys(
            expected_text(right.answer))
        mistake, value = mistakes[wrong_part.id][0]
        driver.find_element(By.CSS_SELECTOR, f'div.input[data-part="{wrong_part.id}"] input').send_keys(str(value))
        grid = [p for p in key.solution.parts if p.answer.kind == "matrix"][0]
        cells = driver.find_elements(By.CSS_SELECTOR, f'div.input[data-part="{grid.id}"] input.cell')
        for cell, value in list(zip(cells, (x for row in grid.answer.value for x in row)))[1:]:  # the first left empty
            cell.send_keys(str(value))
        integer = next(p for p in key.solution.parts if p.answer.kind == "integer")
        assert driver.find_element(By.CSS_SELECTOR, f'div.input[data-part="{integer.id}"] input').get_attribute(
            "placeholder") == "e.g. 4096"
        driver.find_element(By.ID, "check").click()
        verdict = f'li[data-part="{right.id}"] output.verdict'
        wait.until(lambda d: not d.find_element(By.CSS_SELECTOR, verdict).get_attribute("hidden"))
        assert driver.find_element(By.CSS_SELECTOR, verdict).text.startswith("correct")
        text = driver.find_element(By.CSS_SELECTOR, f'li[data-part="{wrong_part.id}"] output.verdict').text
        assert text.startswith("wrong") and mistake.explanation in text
        text = driver.find_element(By.CSS_SELECTOR, f'li[data-part="{grid.id}"] output.verdict').text
        assert text.startswith("invalid") and "row 1, column 1 is empty" in text
        driver.find_element(By.ID, "reveal").click()
        wait.until(lambda d: d.find_element(By.ID, "solution").is_displayed())
        assert driver.find_elements(By.CSS_SELECTOR, "#question .katex")
        assert driver.find_elements(By.CSS_SELECTOR, "#solution .katex")
        assert not driver.find_elements(By.CSS_SELECTOR, ".katex-error")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
        driver.save_screenshot(str(tmp_path / "practice.png"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#progress tbody tr")
        assert rows and variant in rows[0].text
        # another page (here a file:// one) posting to the server without a preflight changes nothing
        evil = tmp_path / "evil.html"
        evil.write_text(f"<script>fetch('{server}api/reset', {{method: 'POST', mode: 'no-cors', body: 'x', "
                        "headers: {'Content-Type': 'text/plain'}}).then(() => document.title = 'sent', "
                        "() => document.title = 'failed');</script>")
        driver.get(evil.as_uri())
        wait.until(lambda d: d.title in ("sent", "failed"))
        assert _attempts(server) == 1
        # Reset asks first: dismissed, nothing is lost; accepted, the progress is gone
        driver.get(server)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#progress tbody tr"))
        driver.find_element(By.ID, "reset").click()
        wait.until(lambda d: d.switch_to.alert).dismiss()
        assert _attempts(server) == 1
        driver.find_element(By.ID, "reset").click()
        wait.until(lambda d: d.switch_to.alert).accept()
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#progress tbody tr"))
        assert _attempts(server) == 0
    finally:
        driver.quit()


WIDE = ["affine", "absmax", "per_channel", "kmeans", "absmax_int8", "affine_channel"]  # matrices in the answers


@pytest.mark.slow
@needs("chromium")
def test_on_a_phone_hard_quantization_solutions_do_not_widen_the_page(server):
    """At 400 px an inline matrix in the solution's answers scrolls inside its line, as on the static pages."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = phone_browser()
    try:
        wait = WebDriverWait(driver, 20)
        driver.get(server)
        wait.until(lambda d: d.find_element(By.ID, "meta").text.startswith("quantization"))
        Select(driver.find_element(By.ID, "difficulty")).select_by_value("hard")
        wide = []
        for variant in WIDE:
            Select(driver.find_element(By.ID, "variant")).select_by_value(variant)
            driver.find_element(By.ID, "new").click()
            wait.until(lambda d: f" · {variant} · hard" in d.find_element(By.ID, "meta").text)
            driver.find_element(By.ID, "reveal").click()
            wait.until(lambda d: d.find_element(By.ID, "solution").is_displayed()
                       and d.find_elements(By.CSS_SELECTOR, "#solution .katex"))
            width = driver.execute_script("return document.documentElement.scrollWidth")
            if width > PHONE_WIDTH:
                wide.append((variant, width))
        assert not wide
    finally:
        driver.quit()



def test_progress_closes_its_database_connections(tmp_path):
    """A server answers for hours: every record, stats or reset closes its connection (they leaked one each)."""
    import os

    path = tmp_path / "progress.sqlite"
    progress = Progress(path)
    for seed in range(50):
        progress.record("quantization", "affine", "easy", seed, {"scale": "correct"})
        progress.stats([("quantization", "affine")])
    progress.reset()
    open_files = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                  if os.path.exists(f"/proc/self/fd/{fd}")]
    assert not [f for f in open_files if f.startswith(str(path))], open_files
