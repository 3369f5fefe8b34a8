package dev.diffusion4j.pipeline;

import dev.diffusion4j.DiffusionException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code parameters} text the AUTOMATIC1111 web UI writes into its PNGs, which Stable Diffusion
 * users and their tools read (and paste back): the prompt, a "Negative prompt:" line, then
 * {@code Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1, Size: 512x768,
 * Model hash: …, Model: …, Clip skip: 2}. {@link #format} writes it from a generation's metadata;
 * {@link #parse} reads one, the web UI's or ours, into the request fields of
 * {@link GenerationRequest.Builder#set} (note the web UI's size is width × height).
 */
public final class A1111Parameters {
    /** The metadata key (PNG text keyword) the web UI uses. */
    public static final String KEY = "parameters";
    private static final String NEGATIVE = "Negative prompt: ";
    /** The web UI's sampler names and the project's samplers that compute the same steps. */
    private static final Map<String, String> SAMPLERS = new LinkedHashMap<>();

    static {
        SAMPLERS.put("Euler a", "euler_ancestral");
        SAMPLERS.put("Euler", "euler");
        SAMPLERS.put("LMS", "lms");
        SAMPLERS.put("Heun", "heun");
        SAMPLERS.put("DPM2", "dpm2");
        SAMPLERS.put("DPM2 a", "dpm2_ancestral");
        SAMPLERS.put("DPM++ 2S a", "dpmpp_2s_ancestral");
        SAMPLERS.put("DPM++ 2M", "dpmpp_2m");
        SAMPLERS.put("DPM++ 2M SDE", "dpmpp_2m_sde");
        SAMPLERS.put("DPM++ 3M SDE", "dpmpp_3m_sde");
        SAMPLERS.put("DPM fast", "dpm_fast");
        SAMPLERS.put("DPM adaptive", "dpm_adaptive");
        SAMPLERS.put("DDIM", "ddim");
        SAMPLERS.put("PLMS", "plms");
        SAMPLERS.put("UniPC", "unipc");
        SAMPLERS.put("DDPM", "ddpm");
    }

    private static final Pattern FIELD = Pattern.compile("\\s*([\\w][\\w \\-/()]*):\\s*(\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)");

    private A1111Parameters() {
    }

    /** The web UI's text for a generation's metadata (as {@link GenerationMetadata#asMap} holds it); null for one without an image size. */
    public static String format(Map<String, Object> m) {
        if (!(m.get("size") instanceof String size) || !size.contains("x")) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        b.append(m.getOrDefault("prompt", m.getOrDefault("class", ""))).append('\n');
        if (m.get("negative") != null) {
            b.append(NEGATIVE).append(m.get("negative")).append('\n');
        }
        String sampler = String.valueOf(m.get("sampler"));
        String name = SAMPLERS.entrySet().stream().filter(e -> e.getValue().equals(sampler)).map(Map.Entry::getKey).findFirst()
                .orElse(sampler);
        String[] hw = size.split("x");
        b.append("Steps: ").append(m.get("steps")).append(", Sampler: ").append(name);
        if ("karras".equals(m.get("sigma_schedule")) || "exponential".equals(m.get("sigma_schedule"))) {
            String s = (String) m.get("sigma_schedule");
            b.append(", Schedule type: ").append(Character.toUpperCase(s.charAt(0))).append(s.substring(1));
        }
        if (m.get("guidance") != null) {
            b.append(", CFG scale: ").append(m.get("guidance"));
        }
        b.append(", Seed: ").append(m.get("seed")).append(", Size: ").append(hw[1]).append('x').append(hw[0]);
        if (m.get("model_hash") != null) {
            b.append(", Model hash: ").append(String.valueOf(m.get("model_hash")).substring(0, 10));
        }
        b.append(", Model: ").append(m.get("model"));
        if (m.get("clip_skip") != null) {
            b.append(", Clip skip: ").append(((Number) m.get("clip_skip")).intValue() + 1);   // the web UI counts the last layer as 1
        }
        b.append(", Version: ").append(m.get("software"));
        return b.toString();
    }

    /**
     * The request fields a web UI {@code parameters} text gives: prompt, negative, steps, sampler (and
     * its schedule), guidance, seed, size, clip skip. A sampler this project has no counterpart of
     * is an error naming it; fields it does not know (hires fix, ADetailer, …) are left out.
     */
    public static Map<String, String> parse(String text) {
        String[] lines = text.strip().split("\n");
        int last = lines.length - 1;
        if (!lines[last].contains("Steps: ")) {
            throw new DiffusionException("the parameters text has no 'Steps: …' line: not what the web UI writes");
        }
        StringBuilder prompt = new StringBuilder();
        StringBuilder negative = null;
        for (int i = 0; i < last; i++) {
            if (lines[i].startsWith(NEGATIVE)) {
                negative = new StringBuilder(lines[i].substring(NEGATIVE.length()));
            } else if (negative != null) {
                negative.append('\n').append(lines[i]);
            } else {
                prompt.append(prompt.length() > 0 ? "\n" : "").append(lines[i]);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        out.put("prompt", prompt.toString());
        if (negative != null && !negative.toString().isBlank()) {
            out.put("negative", negative.toString());
        }
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(lines[last]);
        while (m.find()) {
            String v = m.group(2).strip();
            fields.put(m.group(1).strip(), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        }
        put(out, "steps", fields.get("Steps"));
        put(out, "guidance", fields.get("CFG scale"));
        put(out, "seed", fields.get("Seed"));
        String size = fields.get("Size");
        if (size != null) {
            String[] wh = size.toLowerCase(Locale.ROOT).split("x");
            if (wh.length != 2) {
                throw new DiffusionException("the parameters text's Size '" + size + "' is not WIDTHxHEIGHT");
            }
            out.put("size", wh[1].strip() + "x" + wh[0].strip());
        }
        String sampler = fields.get("Sampler");
        if (sampler != null) {
            String schedule = fields.get("Schedule type");
            for (String suffix : new String[] {" Karras", " Exponential"}) {
                if (sampler.endsWith(suffix)) {   // older versions named the schedule with the sampler
                    schedule = suffix.strip();
                    sampler = sampler.substring(0, sampler.length() - suffix.length());
                }
            }
            String ours = SAMPLERS.get(sampler);
            if (ours == null) {
                throw new DiffusionException("the web UI's sampler '" + sampler + "' has no counterpart here (known: "
                        + String.join(", ", SAMPLERS.keySet()) + ")");
            }
            out.put("sampler", ours);
            if (schedule != null && !schedule.equalsIgnoreCase("Automatic")) {
                out.put("sigma_schedule", schedule.toLowerCase(Locale.ROOT));
            }
        }
        if (fields.get("Clip skip") != null) {
            out.put("clip_skip", Integer.toString(Integer.parseInt(fields.get("Clip skip").strip()) - 1));
        }
        return out;
    }

    private static void put(Map<String, String> out, String key, String value) {
        if (value != null && !value.isBlank()) {
            out.put(key, value.strip());
        }
    }
}
