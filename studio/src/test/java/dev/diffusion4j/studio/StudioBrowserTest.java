package dev.diffusion4j.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.diffusion4j.schedule.BetaSchedule;
import dev.diffusion4j.schedule.NoiseSchedule;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

/**
 * End to end in a real headless Chromium (Debian's chromium and chromium-driver): each page is used as
 * a person would, and what it drew is checked through the page's test hooks (window.studio) and its
 * canvas pixels. Screenshots are kept in target/screenshots.
 */
class StudioBrowserTest {
    static final String CHROMIUM = "/usr/bin/chromium";
    static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    static final Path SHOTS = Path.of("target", "screenshots");

    @TempDir
    static Path root;
    static StudioFixture s;
    static ChromeDriver driver;

    @BeforeAll
    static void start() throws Exception {
        if (!new File(CHROMIUM).canExecute() || !new File(CHROMEDRIVER).canExecute()) {
            fail("the studio's browser tests need Debian's chromium and chromium-driver: apt-get install chromium chromium-driver");
        }
        s = new StudioFixture(root, 16);
        s.trainTinyImageModel();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER)).build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
        Files.createDirectories(SHOTS);
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (s != null) {
            s.close();
        }
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    static double number(String script, Object... args) {
        return ((Number) js(script, args)).doubleValue();
    }

    static void waitFor(String condition, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (Boolean.TRUE.equals(js("try { return !!(" + condition + "); } catch (e) { return false; }"))) {
                return;
            }
            StudioFixture.sleep(50);
        }
        fail("timed out waiting for " + condition + "; page says: " + js("return [document.getElementById('status-line'), "
                + "...document.querySelectorAll('[id$=-status]')].map(e => e.id + ': ' + e.textContent).join(' | ')"));
    }

    static void open(String tab) {
        driver.get(s.studio.url());
        waitFor("window.studio && window.studio.explorer && window.studio.explorer.ready", Duration.ofSeconds(30));
        driver.findElement(By.id("tab-" + tab)).click();
        waitFor("!document.getElementById('page-" + tab + "').hidden", Duration.ofSeconds(5));
    }

    static void screenshot(String name) throws Exception {
        File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    static void setValue(String id, Object value) {
        js("const e = document.getElementById(arguments[0]); e.value = arguments[1];"
                + "e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));",
                id, value.toString());
    }

    /** The interleaved points a hook returns. */
    @SuppressWarnings("unchecked")
    static float[] points(String expression) {
        List<Number> l = (List<Number>) js("const p = " + expression + "; return p ? Array.from(p) : null;");
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.get(i).floatValue();
        }
        return out;
    }

    /** Keeps canvas {@code id}'s pixels for {@link #changedPixels}. */
    static void keepPixels(String id) {
        js("const c = document.getElementById(arguments[0]); window.__kept = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;", id);
    }

    /** Pixels of canvas {@code id} that changed since {@link #keepPixels}. */
    static double changedPixels(String id) {
        return number("const c = document.getElementById(arguments[0]); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                + "const k = window.__kept; let n = 0; for (let i = 0; i < d.length; i += 4) {"
                + " if (Math.abs(d[i] - k[i]) + Math.abs(d[i + 1] - k[i + 1]) + Math.abs(d[i + 2] - k[i + 2]) > 60) n++; } return n;", id);
    }

    /** Pixels of canvas {@code id} that differ from its top-left (background) colour. */
    static double inkedPixels(String id) {
        return number("const c = document.getElementById(arguments[0]); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                + "let n = 0; for (let i = 0; i < d.length; i += 4) { if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 60) n++; }"
                + "return n;", id);
    }

    @Test
    void explorerScrubsTheForwardProcessAtMoreThan30FramesPerSecond() throws Exception {
        open("explorer");
        assertEquals("CLEAN DATA", js("return window.studio.explorer.mode()"));
        float[] clean = points("window.studio.explorer.cloud()");
        assertEquals(4000, clean.length, "2,000 points");
        assertEquals(2.0, StudioFixture.meanRadius(clean), 0.05, "the clean 8 Gaussians on their circle");
        double inkClean = inkedPixels("ex-canvas");
        keepPixels("ex-canvas");

        setValue("ex-t", 300);
        waitFor("window.studio.explorer.mode() === 'FORWARD'", Duration.ofSeconds(5));
        double alphaBar = NoiseSchedule.of(BetaSchedule.LINEAR, 1000).alphaBar(299);
        String readout = driver.findElement(By.id("ex-alphabar")).getText();
        assertTrue(readout.contains(String.format(Locale.ROOT, "%.3f", alphaBar)), readout + " vs " + alphaBar);
        assertTrue(driver.findElement(By.id("ex-t-label")).getText().contains("300"));

        setValue("ex-t", 1000);
        waitFor("document.getElementById('ex-t-label').textContent.includes('1000 / 1000')", Duration.ofSeconds(5));
        StudioFixture.sleep(200);
        float[] noise = points("window.studio.explorer.cloud()");
        assertEquals(1.0, StudioFixture.std(noise), 0.07, "at t = T the cloud is pure N(0, I) noise");
        double changed = changedPixels("ex-canvas");
        assertTrue(inkClean > 1500 && changed > 2000, "points drawn: " + inkClean + " pixels inked, " + changed + " changed at t = T");
        screenshot("explorer-forward");

        // Scrub for two seconds, one slider move per animation frame, and count completed redraws.
        @SuppressWarnings("unchecked")
        List<Number> r = (List<Number>) ((JavascriptExecutor) driver).executeAsyncScript(
                "const done = arguments[arguments.length - 1]; const s = document.getElementById('ex-t');"
                + "const ex = window.studio.explorer; const d0 = ex.draws; const t0 = performance.now(); let i = 0;"
                + "function tick() { s.value = String((i * 37) % 1001); s.dispatchEvent(new Event('input', {bubbles: true})); i++;"
                + "  if (performance.now() - t0 < 2000) requestAnimationFrame(tick);"
                + "  else requestAnimationFrame(() => done([ex.draws - d0, performance.now() - t0, i])); }"
                + "requestAnimationFrame(tick);");
        double fps = r.get(0).doubleValue() / (r.get(1).doubleValue() / 1000);
        String figure = String.format(Locale.ROOT, "explorer scrub: %.1f redraws/s of 2,000 points (%d slider moves in %.0f ms)%n", fps,
                r.get(2).intValue(), r.get(1).doubleValue());
        System.out.print(figure);
        Files.writeString(SHOTS.resolve("explorer-fps.txt"), figure);
        assertTrue(fps >= 30, figure);
    }

    @Test
    void explorerRunsTheReverseProcessAndDrawsTheField() throws Exception {
        open("explorer");
        new Select(driver.findElement(By.id("ex-model"))).selectByValue("oracle");
        new Select(driver.findElement(By.id("ex-sampler"))).selectByValue("ddim");
        setValue("ex-steps", 30);
        driver.findElement(By.id("ex-reverse")).click();
        waitFor("window.studio.explorer.frames() > 0 && window.studio.explorer.mode() === 'REVERSE'", Duration.ofSeconds(60));
        StudioFixture.sleep(4000);   // the particles travel for about three seconds
        float[] end = points("window.studio.explorer.cloud()");
        assertEquals(2.0, StudioFixture.meanRadius(end), 0.1, "the reverse process ends on the circle of modes");
        driver.findElement(By.id("ex-field")).click();
        waitFor("window.studio.explorer.fieldArrows() > 100", Duration.ofSeconds(20));
        setValue("ex-t", 600);
        StudioFixture.sleep(500);
        assertEquals("REVERSE", js("return window.studio.explorer.mode()"));
        screenshot("explorer-reverse");
        setValue("ex-t", 1000);
        StudioFixture.sleep(300);
        assertEquals(1.0, StudioFixture.std(points("window.studio.explorer.cloud()")), 0.08, "scrubbed back to the starting noise");
    }

    @Test
    void liveTrainingChartsTheLossStopsAndResumes() throws Exception {
        open("train");
        new Select(driver.findElement(By.id("tr-dataset"))).selectByValue("8gaussians");
        setValue("tr-steps", 1200);
        setValue("tr-snapshot-every", 100);
        setValue("tr-name", "browser-run");
        driver.findElement(By.id("tr-start")).click();
        waitFor("window.studio.train.snapshots >= 2", Duration.ofSeconds(60));
        driver.findElement(By.id("tr-save")).click();
        waitFor("window.studio.train.checkpoints >= 1", Duration.ofSeconds(30));
        driver.findElement(By.id("tr-stop")).click();
        waitFor("window.studio.train.state === 'cancelled'", Duration.ofSeconds(30));
        assertTrue(driver.findElement(By.id("tr-status")).getText().contains("cancelled"));
        driver.findElement(By.id("tr-resume")).click();
        waitFor("window.studio.train.state === 'done'", Duration.ofSeconds(120));
        assertEquals("browser-run", js("return window.studio.train.model"));
        double losses = number("return window.studio.train.losses.length");
        assertTrue(losses >= 20, "loss points charted: " + losses);
        float[] last = points("window.studio.train.lastSnapshot");
        assertEquals(2.0, StudioFixture.meanRadius(last), 0.25, "after 1,200 steps the snapshot sits on the circle of modes");
        assertTrue(inkedPixels("tr-loss-canvas") > 300, "a loss curve is drawn");
        assertTrue(inkedPixels("tr-snapshot-canvas") > 300, "snapshot points are drawn");
        screenshot("train");
    }

    @Test
    void samplerLabComparesSamplersOnTheSameNoise() throws Exception {
        open("lab");
        new Select(driver.findElement(By.id("lab-model"))).selectByValue("oracle");
        new Select(driver.findElement(By.id("lab-dataset"))).selectByValue("8gaussians");
        driver.findElement(By.id("lab-run")).click();
        waitFor("window.studio.lab.result", Duration.ofSeconds(60));
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) js("return window.studio.lab.result");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) result.get("results");
        int checked = driver.findElements(By.cssSelector("#lab-samplers input[type=checkbox]:checked")).size();
        assertEquals(checked, rows.size());
        assertEquals(checked, driver.findElements(By.cssSelector("#lab-results tr[data-sampler]")).size());
        double floor = ((Number) result.get("floor")).doubleValue();
        for (Map<String, Object> row : rows) {
            double e = ((Number) row.get("energy")).doubleValue();
            assertTrue(e < 10 * floor + 0.01, row.get("sampler") + ": energy " + e + " against floor " + floor);
        }
        screenshot("lab");
    }

    @Test
    void generateStreamsPreviewsAndFillsTheGallery() throws Exception {
        open("generate");
        waitFor("document.querySelector('#gen-model option[value=\"" + StudioFixture.IMAGE_MODEL + "\"]')", Duration.ofSeconds(10));
        new Select(driver.findElement(By.id("gen-model"))).selectByValue(StudioFixture.IMAGE_MODEL);
        setValue("gen-steps", 6);
        setValue("gen-num", 4);
        waitFor("document.getElementById('gen-class').offsetParent !== null", Duration.ofSeconds(5));
        new Select(driver.findElement(By.id("gen-class"))).selectByVisibleText("Sneaker");
        driver.findElement(By.id("gen-bf16")).click();
        driver.findElement(By.id("gen-run")).click();
        waitFor("window.studio.generate.state === 'done'", Duration.ofSeconds(60));
        assertTrue(number("return window.studio.generate.previews") >= 1);
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) js("return window.studio.generate.result");
        String file = result.get("file").toString();
        assertTrue(driver.findElement(By.id("gen-preview")).getAttribute("src").endsWith(file), "the finished grid replaces the previews");
        waitFor("document.querySelector('#gen-gallery a[download][href$=\"" + file + "\"]')", Duration.ofSeconds(10));
        assertEquals("Sneaker", ((Map<?, ?>) result.get("parameters")).get("class"));
        assertEquals("bf16", ((Map<?, ?>) result.get("parameters")).get("precision"), "the checkbox reaches the request");
        screenshot("generate");
    }
}
