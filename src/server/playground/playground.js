// Policy playground: plain JavaScript, no libraries, talks only to this server's public API.
//   GET  /v1/programs                                                    programs, versions, decisions
//   GET  /v1/programs/{p}/versions/{v}                                   rules and input schemas
//   GET  /v1/programs/{p}/versions/{v}/decisions/{d}/examples            inputs from the policy tests
//   POST /v1/decide  {program, decision, version, input, at?, explain: true}
// Every text from the server is put in the page with textContent, never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const els = {
    controls: $("controls"),
    program: $("program"),
    version: $("version"),
    decision: $("decision"),
    example: $("example"),
    at: $("at"),
    compare: $("compare"),
    compareVersion: $("compare-version"),
    compareNote: $("compare-note"),
    decide: $("decide"),
    format: $("format"),
    input: $("input"),
    inputStatus: $("input-status"),
    rules: $("rules"),
    ruleList: $("rule-list"),
    status: $("status"),
    result: $("result"),
  };

  const state = {
    programs: [],
    examples: [],
    details: new Map(), // "program@version" -> Promise of the version document
    generation: 0, // bumps on every selection change: late answers of an old selection are dropped
    dirty: false, // the input was edited by hand since the last example was loaded
  };

  // ───────────────────────── small DOM helpers ─────────────────────────

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fillSelect(select, options, wanted) {
    select.replaceChildren(...options.map(([value, label]) => h("option", { value, text: label })));
    if (wanted !== undefined && options.some(([value]) => value === wanted)) select.value = wanted;
  }

  function setStatus(text, bad) {
    els.status.textContent = text;
    els.status.classList.toggle("bad", Boolean(bad));
  }

  function shown(value) {
    if (value === null) return "null";
    if (value === undefined) return "—";
    if (typeof value === "string") return value;
    return JSON.stringify(value);
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  // ───────────────────────── talking to the server ─────────────────────────

  class HttpProblem extends Error {
    constructor(status, problem) {
      super(problem.detail || problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  async function readBody(response) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return { title: response.statusText || "Not JSON", status: response.status, detail: text.slice(0, 500) };
    }
  }

  async function getJSON(url) {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json" } });
    } catch (err) {
      throw new HttpProblem(0, { title: "The server could not be reached", detail: String(err), errors: [] });
    }
    const body = await readBody(response);
    if (!response.ok) throw new HttpProblem(response.status, body);
    return body;
  }

  const enc = encodeURIComponent;

  function versionDetails(program, version) {
    const key = `${program}@${version}`;
    if (!state.details.has(key)) {
      const promise = getJSON(`/v1/programs/${enc(program)}/versions/${enc(version)}`);
      promise.catch(() => state.details.delete(key)); // try again next time
      state.details.set(key, promise);
    }
    return state.details.get(key);
  }

  // The input is sent as typed (not re-serialised), so the server reads its numbers exactly and its
  // strict decoding (duplicate keys, NaN, …) answers about what the user wrote.
  async function postDecide(version, rawInput, at) {
    const fields = [
      `"program":${JSON.stringify(els.program.value)}`,
      `"decision":${JSON.stringify(els.decision.value)}`,
      `"version":${JSON.stringify(version)}`,
      `"explain":true`,
    ];
    if (at) fields.push(`"at":${JSON.stringify(at)}`);
    fields.push(`"input":${rawInput}`);
    try {
      const response = await fetch("/v1/decide", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json, application/problem+json" },
        body: `{${fields.join(",")}}`,
      });
      return { version, ok: response.ok, status: response.status, body: await readBody(response) };
    } catch (err) {
      const body = { title: "The server could not be reached", detail: String(err), errors: [] };
      return { version, ok: false, status: 0, body };
    }
  }

  // ───────────────────────── selections ─────────────────────────

  function currentProgram() {
    return state.programs.find((p) => p.id === els.program.value);
  }

  function currentVersion() {
    const program = currentProgram();
    return program && program.versions.find((v) => v.version === els.version.value);
  }

  function day(timestamp) {
    return timestamp ? timestamp.slice(0, 10) : "";
  }

  function readHash() {
    return new URLSearchParams(location.hash.replace(/^#/, ""));
  }

  function writeHash() {
    const params = new URLSearchParams();
    if (els.program.value) params.set("program", els.program.value);
    if (els.version.value) params.set("version", els.version.value);
    if (els.decision.value) params.set("decision", els.decision.value);
    if (els.compare.checked && els.compareVersion.value) params.set("compare", els.compareVersion.value);
    history.replaceState(null, "", `#${params}`);
  }

  function onProgram(wanted) {
    const program = currentProgram();
    if (!program) return;
    const versions = program.versions.map((v) => {
      const until = v.effective_until ? day(v.effective_until) : "now";
      return [v.version, `${v.version}   (${day(v.effective_from)} → ${until})`];
    });
    const latest = program.versions[program.versions.length - 1].version;
    fillSelect(els.version, versions, wanted.version || latest);
    onVersion(wanted, true);
  }

  function onVersion(wanted, newProgram) {
    const version = currentVersion();
    if (!version) return;
    const previous = els.decision.value;
    const decisions = version.decisions.map((d) => [d, d]);
    fillSelect(els.decision, decisions, wanted.decision || previous);
    const keepInput = !newProgram && state.dirty && els.decision.value === previous;
    fillCompare(wanted.compare);
    loadDecision(keepInput);
  }

  function fillCompare(wanted) {
    const program = currentProgram();
    if (!program) return;
    const decision = els.decision.value;
    const others = program.versions.filter((v) => v.version !== els.version.value);
    const previous = wanted || els.compareVersion.value;
    const options = others.map((v) => [
      v.version,
      v.decisions.includes(decision) ? v.version : `${v.version} (has no ${decision})`,
    ]);
    const index = program.versions.findIndex((v) => v.version === els.version.value);
    const next = program.versions[index + 1] || others[others.length - 1];
    fillSelect(els.compareVersion, options, others.some((v) => v.version === previous) ? previous : next && next.version);
    els.compare.disabled = others.length === 0;
    if (others.length === 0) els.compare.checked = false;
    els.compareVersion.disabled = !els.compare.checked;
    els.compareNote.textContent = others.length === 0 ? `(${program.id} has one version)` : "";
  }

  async function loadDecision(keepInput) {
    const generation = ++state.generation;
    const program = els.program.value;
    const version = els.version.value;
    const decision = els.decision.value;
    writeHash();
    els.controls.dataset.state = "loading";
    els.result.replaceChildren();
    els.result.dataset.state = "empty";
    setStatus(`Loading ${program} ${version} · ${decision}…`);
    const base = `/v1/programs/${enc(program)}/versions/${enc(version)}`;
    const [details, examples] = await Promise.allSettled([
      versionDetails(program, version),
      getJSON(`${base}/decisions/${enc(decision)}/examples`),
    ]);
    if (generation !== state.generation) return; // another selection was made meanwhile
    const compiled = details.status === "fulfilled" ? details.value.decisions[decision] : undefined;
    showRules(compiled);
    state.examples = examples.status === "fulfilled" ? examples.value : [];
    const options = state.examples.map((ex, i) => [String(i), `${i + 1}. ${ex.name}`]);
    if (options.length === 0) options.push(["", "(no example in the policy tests: a skeleton from the schema)"]);
    fillSelect(els.example, options);
    if (!keepInput) {
      if (state.examples.length > 0) loadExample(0);
      else {
        const skeleton = compiled ? skeletonOf(compiled.input_schema, compiled.input_schema, 0) : {};
        setInput(skeleton, "");
      }
    }
    els.controls.dataset.state = "ready";
    if (examples.status === "rejected") {
      setStatus("The examples could not be loaded.", true);
      showProblem(els.result, examples.reason.status, examples.reason.problem);
    } else {
      const title = compiled && compiled.title ? ` (${compiled.title})` : "";
      setStatus(`${program} ${version} · ${decision}${title}: edit the input and press Decide.`);
    }
  }

  function showRules(compiled) {
    if (!compiled) {
      els.ruleList.replaceChildren();
      els.rules.hidden = true;
      return;
    }
    els.rules.hidden = false;
    const items = compiled.rules.map((rule) =>
      h("li", {}, h("span", { class: "rule-id", text: rule.id }), rule.title ? ` ${rule.title}` : "",
        h("code", { text: rule.condition })),
    );
    if (compiled.otherwise) items.push(h("li", {}, h("span", { class: "rule-id", text: "otherwise" }), " when no rule matches"));
    els.ruleList.replaceChildren(...items);
    els.rules.querySelector("summary").textContent = `Rules of this decision (${compiled.rules.length}, hit policy ${compiled.hit})`;
  }

  function setInput(value, at) {
    els.input.value = JSON.stringify(value, null, 2);
    els.at.value = at || "";
    state.dirty = false;
    checkInput();
  }

  function loadExample(index) {
    const example = state.examples[index];
    if (!example) return;
    els.example.value = String(index);
    setInput(example.input, example.at);
  }

  // A starting input from a JSON schema, when the policy tests give no example.
  function skeletonOf(schema, root, depth) {
    if (!schema || typeof schema !== "object" || depth > 8) return null;
    if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/")) {
      const target = schema.$ref.slice(2).split("/").reduce((node, key) => (node ? node[key] : undefined), root);
      return skeletonOf(target, root, depth + 1);
    }
    if ("const" in schema) return schema.const;
    if ("default" in schema) return schema.default;
    if (Array.isArray(schema.enum)) return schema.enum[0];
    const choices = schema.anyOf || schema.oneOf;
    let type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") || "null" : schema.type;
    if (!type && schema.properties) type = "object";
    if (!type && Array.isArray(choices)) return skeletonOf(choices[0], root, depth + 1);
    switch (type) {
      case "object": {
        const props = schema.properties || {};
        const out = {};
        for (const key of schema.required || Object.keys(props)) out[key] = skeletonOf(props[key], root, depth + 1);
        return out;
      }
      case "array": return [];
      case "integer": case "number": return 0;
      case "boolean": return false;
      case "null": return null;
      case "string":
        if (schema.format === "date-time") return "2024-01-01T00:00:00+08:00";
        try {
          if (schema.pattern && new RegExp(schema.pattern, "u").test("0.00")) return "0.00";
        } catch { /* a pattern this browser does not read */ }
        return "";
      default: return null;
    }
  }

  // ───────────────────────── the input editor ─────────────────────────

  function checkInput() {
    const text = els.input.value;
    try {
      const value = JSON.parse(text);
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new SyntaxError("the input must be a JSON object { … }");
      }
      els.input.classList.remove("invalid");
      els.inputStatus.classList.remove("bad");
      els.inputStatus.textContent = "JSON ok";
      return { ok: true, value };
    } catch (err) {
      const message = err instanceof SyntaxError ? err.message : String(err);
      els.input.classList.add("invalid");
      els.inputStatus.classList.add("bad");
      els.inputStatus.textContent = `Not valid JSON: ${message}`;
      return { ok: false, message };
    }
  }

  // Where a JSON pointer's member is written in the editor's text: [start, end] of `"key": value`, or of the
  // deepest part of the pointer that is there (a missing field selects the object that should hold it).
  function locate(text, segments) {
    let i = 0;
    let best = null;
    const ws = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
    const skipString = () => {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
    };
    const skipValue = () => {
      ws();
      if (text[i] === '"') return skipString();
      if (text[i] === "{" || text[i] === "[") {
        let depth = 0;
        while (i < text.length) {
          const c = text[i];
          if (c === '"') { skipString(); continue; }
          if (c === "{" || c === "[") depth++;
          else if (c === "}" || c === "]") { depth--; if (depth === 0) { i++; return; } }
          i++;
        }
        return;
      }
      while (i < text.length && !",}] \t\r\n".includes(text[i])) i++;
    };
    const walk = (k) => {
      ws();
      if (k === segments.length) return;
      const segment = segments[k];
      if (text[i] === "{") {
        i++;
        for (;;) {
          ws();
          if (text[i] !== '"') return;
          const keyStart = i;
          skipString();
          let key;
          try { key = JSON.parse(text.slice(keyStart, i)); } catch { return; }
          ws();
          if (text[i] !== ":") return;
          i++;
          if (key === segment) {
            best = [keyStart, i];
            if (k + 1 === segments.length) { skipValue(); best = [keyStart, i]; return; }
            walk(k + 1);
            return;
          }
          skipValue();
          ws();
          if (text[i] !== ",") return;
          i++;
        }
      } else if (text[i] === "[") {
        const wantedIndex = Number(segment);
        if (!Number.isInteger(wantedIndex)) return;
        i++;
        for (let n = 0; ; n++) {
          ws();
          if (text[i] === "]") return;
          if (n === wantedIndex) {
            const start = i;
            if (k + 1 === segments.length) { skipValue(); best = [start, i]; return; }
            best = [start, start + 1];
            walk(k + 1);
            return;
          }
          skipValue();
          ws();
          if (text[i] !== ",") return;
          i++;
        }
      }
    };
    walk(0);
    return best;
  }

  function pointerSegments(pointer) {
    return pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  }

  function showPointer(pointer) {
    const segments = pointerSegments(pointer);
    const field = { at: els.at, version: els.version, program: els.program, decision: els.decision }[segments[0]];
    if (segments[0] !== "input") {
      if (field) field.focus();
      return;
    }
    const text = els.input.value;
    const found = segments.length > 1 ? locate(text, segments.slice(1)) : [0, text.length];
    els.input.focus();
    if (!found) return;
    els.input.setSelectionRange(found[0], found[1]);
    const line = text.slice(0, found[0]).split("\n").length - 1;
    const lineHeight = parseFloat(getComputedStyle(els.input).lineHeight) || 18;
    els.input.scrollTop = Math.max(0, line * lineHeight - els.input.clientHeight / 3);
  }

  // ───────────────────────── showing answers and problems ─────────────────────────

  function pointerWords(pointer) {
    return pointer ? pointerSegments(pointer).join(" › ") : "";
  }

  function showProblem(container, status, problem) {
    const body = problem && typeof problem === "object" ? problem : { detail: String(problem) };
    const heading = [status ? String(status) : "", body.title || "Error"].filter(Boolean).join(" ");
    const errors = Array.isArray(body.errors) ? body.errors : [];
    const items = errors.map((e) => {
      const pointer = typeof e.pointer === "string" ? e.pointer : "";
      const label = pointer
        ? h("button", { type: "button", class: "pointer", title: `Show ${pointerWords(pointer)}`, onclick: () => showPointer(pointer), text: pointer })
        : h("span", { class: "pointer root", text: "request" });
      return h("li", { dataset: { pointer } }, label, " ", h("span", { class: "message", text: e.message || "" }));
    });
    const listed = errors.map((e) => (e.pointer ? `${e.pointer}: ${e.message}` : e.message)).join("; ");
    const detailNeeded = items.length === 0 || (body.detail !== listed && body.detail !== errors[0].message);
    const extra = [];
    if (body.rule) extra.push(`rule: ${body.rule}`);
    if (body.location) extra.push(`at ${body.location}`);
    container.append(
      h("div", { class: "problem", role: "alert", dataset: { status: status || "" } },
        h("h3", { text: heading }),
        detailNeeded && body.detail ? h("p", { class: "detail", text: body.detail }) : null,
        items.length ? h("ul", { class: "errors" }, items) : null,
        extra.length ? h("p", { class: "extra", text: extra.join(" · ") }) : null,
      ),
    );
  }

  function changedFields(a, b) {
    const keys = [...new Set([...Object.keys(a || {}), ...Object.keys(b || {})])];
    return new Set(keys.filter((k) => !same((a || {})[k], (b || {})[k])));
  }

  function ruleTitles(details, decision) {
    const titles = new Map();
    const compiled = details && details.decisions && details.decisions[decision];
    for (const rule of (compiled && compiled.rules) || []) titles.set(rule.id, rule.title || "");
    return titles;
  }

  function renderAnswer(side, res, other, titles) {
    const answer = res.body;
    const result = answer.result || {};
    const otherResult = other && other.ok ? other.body.result || {} : null;
    const changed = otherResult ? changedFields(result, otherResult) : new Set();

    const outcome = "outcome" in result ? shown(result.outcome) : null;
    side.append(
      h("p", { class: `outcome${changed.has("outcome") ? " changed" : ""}` },
        "Outcome: ",
        h("span", { class: `badge ${outcome || "none"}`, dataset: { testid: "outcome" }, text: outcome || "(no outcome field)" }),
      ),
    );

    const keys = [...Object.keys(result)];
    if (otherResult) for (const key of Object.keys(otherResult)) if (!keys.includes(key)) keys.push(key);
    const rows = keys.map((key) =>
      h("tr", { class: changed.has(key) ? "changed" : null, dataset: { field: key } },
        h("th", { scope: "row", text: key }),
        h("td", { class: "value" }, shown(result[key]),
          changed.has(key) ? h("span", { class: "was", text: `${other.version}: ${shown(otherResult[key])}` }) : null),
      ),
    );
    side.append(h("h3", { text: "Result" }), h("table", { class: "fields" }, h("tbody", {}, rows)));

    const matched = answer.matched_rules || [];
    const rulesDiffer = other && other.ok && !same(matched, other.body.matched_rules || []);
    side.append(
      h("h3", { text: "Matched rules" }),
      h("ul", { class: `plain matched${rulesDiffer ? " changed" : ""}` },
        matched.map((id) => h("li", {}, h("span", { class: "rule-id", text: id }), titles.get(id) ? ` ${titles.get(id)}` : "")),
      ),
    );

    const reasons = answer.reasons || [];
    side.append(
      h("h3", { text: "Reasons" }),
      reasons.length
        ? h("ul", { class: "plain reasons" }, reasons.map((r) => h("li", {}, h("span", { class: "rule-id", text: r.rule }), `: ${r.message}`)))
        : h("p", { class: "extra", text: "(none)" }),
    );

    const trace = answer.trace || [];
    const traceRows = trace.map((step) =>
      h("tr", { class: step.matched ? "hit" : null },
        h("td", { class: "rule-id", text: step.rule }),
        h("td", { class: step.matched ? "yes" : "no", text: step.matched ? "✓ matched" : "✗" }),
        h("td", {},
          h("div", { class: "cond", text: step.condition || "" }),
          h("ul", { class: "values" }, (step.values || []).map((v) =>
            h("li", { class: v.value === "not evaluated" ? "skipped" : null },
              h("span", { class: "expr", text: v.expr }), " = ", h("span", { class: "val", text: shown(v.value) })),
          )),
        ),
      ),
    );
    side.append(
      h("h3", { text: `Trace (${trace.length} rules looked at)` }),
      h("div", { class: "trace-wrap" },
        h("table", { class: "trace" },
          h("thead", {}, h("tr", {}, h("th", { text: "rule" }), h("th", { text: "matched" }), h("th", { text: "condition and the value of each part" }))),
          h("tbody", {}, traceRows),
        ),
      ),
    );
  }

  function renderSide(res, other, details) {
    const side = h("section", { class: "side", dataset: { version: res.version, ok: String(res.ok) } });
    const meta = res.ok
      ? `${(res.body.policy_digest || "").replace(/^sha256:/, "sha256 ").slice(0, 19)} · ${res.body.evaluated_at || ""}`
      : `HTTP ${res.status}`;
    side.append(h("h2", {}, res.version, h("span", { class: "meta", text: meta })));
    if (res.ok) renderAnswer(side, res, other, ruleTitles(details, els.decision.value));
    else showProblem(side, res.status, res.body);
    return side;
  }

  function summaryOf(a, b) {
    if (!a.ok || !b.ok) {
      const failed = [a, b].filter((r) => !r.ok).map((r) => `${r.version} (${r.status || "no answer"})`);
      return { text: `No comparison: ${failed.join(" and ")} answered with an error.`, differs: true };
    }
    const changed = [...changedFields(a.body.result, b.body.result)];
    const rulesDiffer = !same(a.body.matched_rules, b.body.matched_rules);
    if (changed.length === 0 && !rulesDiffer) {
      return { text: `Same answer under ${a.version} and ${b.version}.`, differs: false };
    }
    const parts = [];
    if (changed.length) parts.push(`${changed.length} field${changed.length === 1 ? "" : "s"} differ: ${changed.join(", ")}`);
    if (rulesDiffer) parts.push("the matched rules differ");
    return { text: `${a.version} → ${b.version}: ${parts.join("; ")}.`, differs: true };
  }

  async function decide(event) {
    event.preventDefault();
    if (els.decide.disabled) return;
    const checked = checkInput();
    els.result.replaceChildren();
    if (!checked.ok) {
      els.result.dataset.state = "error";
      setStatus("The input is not valid JSON: nothing was sent.", true);
      showProblem(els.result, null, {
        title: "The input is not valid JSON",
        errors: [{ pointer: "/input", message: checked.message }],
      });
      return;
    }
    const versions = [els.version.value];
    if (els.compare.checked && els.compareVersion.value) versions.push(els.compareVersion.value);
    const generation = state.generation;
    const at = els.at.value.trim();
    els.decide.disabled = true;
    els.result.dataset.state = "deciding";
    setStatus(versions.length > 1 ? `Deciding under ${versions.join(" and ")}…` : `Deciding under ${versions[0]}…`);
    try {
      const program = els.program.value;
      const answers = await Promise.all(versions.map((v) => postDecide(v, els.input.value, at)));
      const details = await Promise.all(versions.map((v) => versionDetails(program, v).catch(() => null)));
      if (generation !== state.generation) return;
      els.result.replaceChildren();
      if (answers.length === 1) {
        els.result.append(renderSide(answers[0], null, details[0]));
      } else {
        const [a, b] = answers;
        const summary = summaryOf(a, b);
        els.result.append(
          h("p", { id: "compare-summary", class: `summary${summary.differs ? " differs" : ""}`, text: summary.text }),
          h("div", { class: "columns" }, renderSide(a, b, details[0]), renderSide(b, a, details[1])),
        );
      }
      const failed = answers.filter((r) => !r.ok);
      els.result.dataset.state = failed.length ? "error" : "done";
      if (failed.length) setStatus(`The server answered with an error (${failed.map((r) => r.status).join(", ")}).`, true);
      else setStatus(answers.length > 1 ? `Decided under ${versions.join(" and ")}.` : `Decided under ${versions[0]}.`);
    } finally {
      els.decide.disabled = false;
    }
  }

  // ───────────────────────── start ─────────────────────────

  async function start() {
    els.program.addEventListener("change", () => onProgram({}));
    els.version.addEventListener("change", () => onVersion({}, false));
    els.decision.addEventListener("change", () => { fillCompare(); loadDecision(false); });
    els.example.addEventListener("change", () => loadExample(Number(els.example.value)));
    els.compare.addEventListener("change", () => { els.compareVersion.disabled = !els.compare.checked; writeHash(); });
    els.compareVersion.addEventListener("change", writeHash);
    els.input.addEventListener("input", () => { state.dirty = true; checkInput(); });
    els.format.addEventListener("click", () => {
      const checked = checkInput();
      if (checked.ok) els.input.value = JSON.stringify(checked.value, null, 2);
    });
    els.controls.addEventListener("submit", decide);
    els.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) decide(event);
    });

    els.controls.dataset.state = "loading";
    let data;
    try {
      data = await getJSON("/v1/programs");
    } catch (err) {
      setStatus("The programs could not be loaded.", true);
      showProblem(els.result, err.status, err.problem || { detail: String(err) });
      return;
    }
    state.programs = data.programs || [];
    if (state.programs.length === 0) {
      setStatus("This server has no policies loaded.", true);
      return;
    }
    const wanted = Object.fromEntries(readHash());
    fillSelect(els.program, state.programs.map((p) => [p.id, p.title ? `${p.id} · ${p.title}` : p.id]), wanted.program);
    if (wanted.compare) els.compare.checked = true;
    onProgram(wanted);
  }

  start();
})();
