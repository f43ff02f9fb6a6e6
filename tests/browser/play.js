// Opens player.html pages in one headless Chromium (Debian's, driven by
// playwright-core: no browser is downloaded) side by side, and samples
// each page's video element until it has played GOAL seconds (or hls.js
// gave up, or DEADLINE seconds passed).
//   node play.js GOAL DEADLINE PAGE_URL [PAGE_URL...]
// Prints one JSON line: per page, the samples
// (currentTime, decoded frames, every half second), hls.js's report and
// errors, and the browser's console errors (where a CORS refusal shows).
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const {chromium} = require("playwright-core");

// Until the page's video has played goal seconds since it started, or
// hls.js gave up, or deadline seconds passed.
async function sample(context, url, goal, deadline) {
	const out = {url, console: [], samples: []};
	const page = await context.newPage();
	page.on("console", m => { if (m.type() === "error") out.console.push(m.text()); });
	page.on("pageerror", e => out.console.push(String(e)));
	await page.goto(url, {timeout: 15000});
	const start = Date.now();
	let first = null; // the first sample that had started playing
	while (Date.now() - start < deadline * 1000) {
		await page.waitForTimeout(500);
		const s = await page.evaluate(() => window.sample());
		s.ms = Date.now() - start;
		out.samples.push(s);
		if (first === null && s.currentTime > 0)
			first = s;
		if (first !== null && s.currentTime - first.currentTime >= goal)
			break;
		if ((await page.evaluate(() => window.report.fatal)) !== null)
			break; // hls.js gave up: no use waiting
	}
	out.report = await page.evaluate(() => window.report);
	await page.close();
	return out;
}

async function main() {
	const [goal, deadline] = [Number(process.argv[2]), Number(process.argv[3])];
	const urls = process.argv.slice(4);
	// A new empty profile, and as root on a machine without the outer
	// network: no sandbox, no GPU, nothing fetched in the background.
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), "peercdn-chromium-"));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		       "--disable-background-networking", "--disable-component-update",
		       "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
	});
	try {
		const pages = await Promise.all(urls.map(u => sample(context, u, goal, deadline)));
		console.log(JSON.stringify({pages}));
	} finally {
		await context.close();
		fs.rmSync(profile, {recursive: true, force: true});
	}
}

main().catch(e => { console.error(String(e)); process.exit(1); });
