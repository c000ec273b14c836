// One page of one engine in its own profile, as the tests use it: evaluate, click, fill,
// go to a URL, reload, wait for a condition, close. Every call has a deadline.
//
// A tab also records what the page did that the tests check afterwards: requests to other
// origins (every request where the driver reports them, Firefox over WebDriver
// BiDi; in every engine the documents' own Resource Timing entries), uncaught errors
// and Content-Security-Policy violations (a recorder installed before the page's scripts
// where the driver can, else just after each load: classic WebDriver, WebKit).
import { By } from "selenium-webdriver";

// The recorder of uncaught errors and CSP violations, as a script for puppeteer's
// evaluateOnNewDocument and as a function for WebKit to run after a load.
export function installRecorder() {
  if (window.__recorded) return;
  const recorded = (window.__recorded = { errors: [], csp: [] });
  // The message and the stack: an Error's stack holds no message in Firefox and WebKit.
  const describe = (error, message) => `${message}${error?.stack ? `\n${error.stack}` : ""}`;
  window.addEventListener("error", (e) => recorded.errors.push(describe(e.error, e.message)));
  window.addEventListener("unhandledrejection", (e) =>
    recorded.errors.push(describe(e.reason, `unhandled rejection: ${e.reason?.message ?? e.reason}`)),
  );
  document.addEventListener("securitypolicyviolation", (e) => {
    recorded.csp.push(`${e.violatedDirective}: ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
  });
}
export const RECORDER = `(${installRecorder})();`;

// A driver's call that never answers (seen under load: a page.evaluate over BiDi, a
// WebDriver session that went quiet) must fail the test with what was asked, not leave it
// to the runner's timeout.
export function within(seconds, what, promise) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the browser did not answer ${what} within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The engines' subclasses give the driver calls (driverEvaluate, driverClick ...).
class Tab {
  constructor() {
    this.origin = null;
    this.foreign = new Set();
    this.errors = [];
    this.csp = new Set();
  }

  sawRequest(url) {
    if (!url.startsWith("data:") && !url.startsWith("blob:") && this.origin && !url.startsWith(this.origin)) {
      this.foreign.add(url);
    }
  }

  evaluate(fn, ...args) {
    return within(60, `a script (${String(fn).slice(0, 80)})`, this.driverEvaluate(fn, ...args));
  }

  click(selector) {
    return within(60, `a click on ${selector}`, this.driverClick(selector));
  }

  fill(selector, text) {
    return within(60, `typing into ${selector}`, this.driverFill(selector, text));
  }

  // Reads what the current document recorded, before it goes (a navigation, a reload,
  // closing the tab), taking its errors and violations out (a document can outlive a read).
  // A request still under way is not seen in WebKit, whose only record of requests is
  // this: a Resource Timing entry is added once the body has arrived.
  async collect() {
    if (!this.origin) return;
    try {
      const [resources, recorded] = await this.evaluate(() => {
        const taken = window.__recorded && { errors: window.__recorded.errors.splice(0), csp: window.__recorded.csp.splice(0) };
        return [performance.getEntriesByType("resource").map((entry) => entry.name), taken ?? { errors: [], csp: [] }];
      });
      resources.forEach((url) => this.sawRequest(url));
      this.errors.push(...recorded.errors);
      recorded.csp.forEach((violation) => this.csp.add(violation));
    } catch {
      // A document mid-navigation or gone: nothing more to read from it.
    }
  }

  async goto(url) {
    await this.collect();
    this.origin ??= new URL(url).origin;
    await within(180, `loading ${url.slice(0, 80)}`, this.driverNavigate(url));
    await this.afterLoad();
  }

  async reload() {
    await this.collect();
    await within(180, "a reload", this.driverRefresh());
    await this.afterLoad();
  }

  // Where the recorder could not be installed before the page's scripts: now.
  async afterLoad() {}

  // Waits until fn(arg) is truthy in the page; returns its value. Polling (not a
  // driver's own wait) so every engine waits the same way.
  async waitFor(fn, arg = null, { timeout = 60_000, what = String(fn) } = {}) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        last = await this.evaluate(fn, arg);
        if (last) return last;
      } catch (error) {
        last = error; // mid-navigation: try again
      }
      if (Date.now() > end) throw new Error(`waited ${timeout / 1000} s for ${what}; last answer: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async close() {
    await this.collect();
    await within(60, "closing the tab", this.driverQuit());
  }
}

export class PuppeteerTab extends Tab {
  constructor(page, context) {
    super();
    this.page = page;
    this.context = context;
  }

  driverNavigate(url) {
    return this.page.goto(url, { timeout: 0 });
  }

  driverRefresh() {
    return this.page.reload({ timeout: 0 });
  }

  driverEvaluate(fn, ...args) {
    return this.page.evaluate(fn, ...args);
  }

  driverClick(selector) {
    return this.page.click(selector);
  }

  driverFill(selector, text) {
    return this.page.locator(selector).fill(text);
  }

  driverQuit() {
    return this.context.close();
  }
}

export class WebKitTab extends Tab {
  constructor(driver) {
    super();
    this.driver = driver;
  }

  async afterLoad() {
    await this.evaluate(installRecorder);
  }

  driverNavigate(url) {
    return this.driver.get(url);
  }

  driverRefresh() {
    return this.driver.navigate().refresh();
  }

  driverEvaluate(fn, ...args) {
    return this.driver.executeScript(fn, ...args);
  }

  async driverClick(selector) {
    await this.driver.findElement(By.css(selector)).click();
  }

  async driverFill(selector, text) {
    const field = await this.driver.findElement(By.css(selector));
    await field.clear();
    await field.sendKeys(text);
  }

  driverQuit() {
    return this.driver.quit();
  }
}
