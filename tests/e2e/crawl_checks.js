// What the page crawl (tests/e2e/test_crawl.py) asks of every page, run inside the page as an
// init script. Each check returns a list of findings, one short sentence each, naming the element
// as a reader would find it (its text, its data-/class attributes), so a failure says what to fix.
(() => {
  // Chinese characters and the punctuation that only Chinese text uses (full-width forms, 、。「」).
  const CJK = /[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]/;
  const USER_CONTENT = "[data-user-content], [translate='no'], [lang]:not(html)";
  const CONTROLS = "button, [role=button], [role=tab], [role=radio], .btn, .tab, .segmented > label, .chip";
  const TEXT_ATTRIBUTES = ["aria-label", "title", "placeholder", "alt", "aria-roledescription"];

  function describe(element) {
    if (!element || element.nodeType !== 1) return "?";
    const parts = [element.tagName.toLowerCase()];
    if (element.id) parts.push(`#${element.id}`);
    for (const name of element.getAttributeNames()) {
      if (name.startsWith("data-") && name !== "data-user-content") parts.push(`[${name}]`);
    }
    const classes = Array.from(element.classList).slice(0, 2);
    if (classes.length) parts.push(`.${classes.join(".")}`);
    let text = (element.innerText || element.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ");
    if (text.length > 40) text = `${text.slice(0, 40)}…`;
    return text ? `${parts.join("")} "${text}"` : parts.join("");
  }

  function rendered(element) {
    // Laid out (the reader or a screen reader meets it): not display:none, not visibility:hidden.
    if (!element.getClientRects().length) return false;
    return getComputedStyle(element).visibility !== "hidden";
  }

  function textNodes(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode(node) {
        const parent = node.parentElement;
        if (!parent || !node.data.trim()) return NodeFilter.FILTER_REJECT;
        if (parent.closest("script, style, template, noscript, svg")) return NodeFilter.FILTER_REJECT;
        return NodeFilter.FILTER_ACCEPT;
      },
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes.filter((node) => {
      const range = document.createRange();
      range.selectNodeContents(node);
      return range.getClientRects().length > 0 && getComputedStyle(node.parentElement).visibility !== "hidden";
    });
  }

  /** Every piece of text a person (or their screen reader) meets, with the element it belongs to. */
  function texts() {
    const found = [{ element: document.documentElement, text: document.title, where: "<title>" }];
    for (const node of textNodes(document.body)) {
      found.push({ element: node.parentElement, text: node.data, where: "text" });
    }
    for (const element of document.body.querySelectorAll("*")) {
      for (const name of TEXT_ATTRIBUTES) {
        const value = element.getAttribute(name);
        if (value && value.trim() && rendered(element)) found.push({ element, text: value, where: name });
      }
      if (element.tagName === "OPTION" && element.parentElement && rendered(element.closest("select"))) {
        found.push({ element, text: element.textContent, where: "option" });
      }
      if (element.tagName === "INPUT" && ["button", "submit", "reset"].includes(element.type) && rendered(element)) {
        found.push({ element, text: element.value, where: "value" });
      }
    }
    return found;
  }

  function rawKeys(keyPattern) {
    const pattern = new RegExp(keyPattern, "g");
    const findings = [];
    for (const { element, text, where } of texts()) {
      const keys = text.match(pattern);
      if (keys) findings.push(`raw message key ${keys.join(", ")} in ${where} of ${describe(element)}`);
    }
    return findings;
  }

  function chineseOnEnglish() {
    if (document.documentElement.lang !== "en") return [];
    const findings = [];
    // The tab's title may carry what the page shows as user content (an issue's title): that part may be Chinese.
    const quoted = Array.from(document.body.querySelectorAll(USER_CONTENT)).map((e) => e.textContent.trim())
      .filter(Boolean).sort((a, b) => b.length - a.length);
    for (const { element, text, where } of texts()) {
      const own = where === "<title>" ? quoted.reduce((rest, q) => rest.split(q).join(""), text) : text;
      if (!CJK.test(own)) continue;
      if (where !== "<title>" && element.closest(USER_CONTENT)) continue;
      findings.push(`Chinese "${text.trim().slice(0, 30)}" in ${where} of ${describe(element)} on an English page `
        + "(translate it, or mark user content with data-user-content)");
    }
    return findings;
  }

  function clippedByAncestor(element) {
    // Inside a box that scrolls or clips sideways (a tab strip), sticking out of the screen is the box's
    // business: the box itself is checked.
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX !== "visible" || style.position === "fixed") return true;
    }
    return false;
  }

  function overflow() {
    const width = document.documentElement.clientWidth;
    const findings = [];
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth > width) findings.push(`the page scrolls sideways: ${scrollWidth} px wide in ${width} px`);
    const out = [];
    for (const element of document.body.querySelectorAll("*")) {
      if (element.closest("svg, .visually-hidden, .skip-link")) continue;
      const rect = element.getBoundingClientRect();
      if (!rect.width || !rect.height) continue;
      if (rect.right <= width + 1 && rect.left >= -1) continue;
      if (getComputedStyle(element).position === "fixed" && rect.right <= 0) continue;
      if (clippedByAncestor(element)) continue;
      if (out.some((parent) => parent.contains(element))) continue;
      out.push(element);
      findings.push(`${describe(element)} sticks out of the screen (${Math.round(rect.left)}…${Math.round(rect.right)}`
        + ` px of ${width})`);
    }
    return findings;
  }

  /** Elements that run out of the box they are in (a badge under the row's arrow), though not off the screen. */
  function outOfBox() {
    const findings = [];
    const out = [];
    for (const element of document.body.querySelectorAll("*")) {
      const parent = element.parentElement;
      if (!parent || parent === document.body || element.closest("svg, .visually-hidden, .skip-link")) continue;
      const style = getComputedStyle(element);
      if (style.position === "absolute" || style.position === "fixed" || style.display === "contents") continue;
      if (parseFloat(style.marginLeft) < 0 || parseFloat(style.marginRight) < 0) continue; // bleeds on purpose
      const rect = element.getBoundingClientRect();
      if (!rect.width || !rect.height) continue;
      const box = getComputedStyle(parent);
      if (box.display === "contents" || box.overflowX !== "visible" || box.display.startsWith("inline")) continue;
      const outer = parent.getBoundingClientRect();
      const right = outer.right - parseFloat(box.borderRightWidth) - parseFloat(box.paddingRight);
      const left = outer.left + parseFloat(box.borderLeftWidth) + parseFloat(box.paddingLeft);
      if (rect.right <= right + 1 && rect.left >= left - 1) continue;
      if (out.some((o) => o.contains(element))) continue;
      out.push(element);
      findings.push(`${describe(element)} runs out of its box ${describe(parent).split(" ")[0]} by `
        + `${Math.round(Math.max(rect.right - right, left - rect.left))} px`);
    }
    return findings;
  }

  /** A control's label as laid out: its lines, and whether a line break cuts a word in two. */
  function layoutOf(element) {
    const chars = [];  // {ch, top, height} in reading order, spaces included (top null)
    for (const node of textNodes(element)) {
      if (node.parentElement.closest(".visually-hidden")) continue; // read out, never drawn
      for (let i = 0; i < node.data.length; i += 1) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        const blank = /\s/.test(node.data[i]) || !rect || !rect.width;
        chars.push({ ch: node.data[i], top: blank ? null : rect.top, height: blank ? 0 : rect.height });
      }
      chars.push({ ch: " ", top: null, height: 0 });
    }
    const rows = [];
    let cut = false;
    let previous = null;
    for (const c of chars) {
      if (c.top === null) {
        previous = c.ch === " " || /\s/.test(c.ch) ? null : previous;
        continue;
      }
      let row = rows.find((r) => Math.abs(r.top - c.top) < c.height / 2);
      if (!row) {
        row = { top: c.top, text: "" };
        rows.push(row);
      }
      if (previous && previous.row !== row && /[A-Za-z]/.test(previous.ch) && /[A-Za-z]/.test(c.ch)) cut = true;
      row.text += c.ch;
      previous = { row, ch: c.ch };
    }
    return { rows: rows.sort((a, b) => a.top - b.top).map((row) => row.text), cut };
  }

  function squeezedLabels() {
    const findings = [];
    for (const control of document.body.querySelectorAll(CONTROLS)) {
      if (!rendered(control) || control.closest(".visually-hidden")) continue;
      const { rows, cut } = layoutOf(control);
      if (rows.length < 2) continue;
      const longest = Math.max(...rows.map((row) => Array.from(row).length));
      const orphan = rows.some((row) => Array.from(row).length === 1 && /\p{L}/u.test(row));
      if (longest <= 2 || cut || orphan) {
        findings.push(`${describe(control)} wraps its label as ${rows.map((row) => `"${row}"`).join(" / ")}`);
      }
    }
    return findings;
  }

  /** Words and numbers of the page's own text cut across two lines (a column too narrow for them). */
  function cutWords() {
    const findings = [];
    for (const node of textNodes(document.body)) {
      const parent = node.parentElement;
      if (!/[A-Za-z0-9]{2}/.test(node.data) || parent.closest(`${USER_CONTENT}, .visually-hidden`)) continue;
      const whole = document.createRange();
      whole.selectNodeContents(node);
      if (whole.getClientRects().length < 2) continue; // on one line
      if (getComputedStyle(parent).wordBreak === "break-all") continue; // codes and hashes, cut on purpose
      let previous = null;
      for (let i = 0; i < node.data.length; i += 1) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = /[A-Za-z0-9]/.test(node.data[i]) ? range.getClientRects()[0] : null;
        if (rect && previous && Math.abs(rect.top - previous.top) >= previous.height / 2) {
          const word = node.data.slice(0, i).match(/[A-Za-z0-9]*$/)[0] + node.data.slice(i).match(/^[A-Za-z0-9]*/)[0];
          findings.push(`${describe(parent)} cuts "${word}" across two lines`);
        }
        previous = rect && rect.width ? rect : null;
      }
    }
    return findings;
  }

  /** Wait until the page has nothing left to draw: two animation frames. */
  function frames() {
    return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  }

  window.__crawl = {
    frames,
    /** What one look (a width, a mode) shows wrong; the words only when asked (once per mode). */
    async layout(keyPattern, words = true) {
      await frames();
      const found = [...overflow(), ...outOfBox(), ...squeezedLabels(), ...cutWords()];
      return words ? [...found, ...rawKeys(keyPattern), ...chineseOnEnglish()] : found;
    },
    async axe(rules) {
      const options = { resultTypes: ["violations"] };
      if (rules) options.runOnly = { type: "rule", values: rules };
      const result = await window.axe.run(document, options);
      return result.violations.flatMap((violation) => violation.nodes.map((node) => `axe ${violation.id}`
        + ` (${violation.impact}): ${violation.help} — ${node.target.join(" ")}: ${node.failureSummary
          .replace(/\s+/g, " ").slice(0, 200)}`));
    },
  };
})();
