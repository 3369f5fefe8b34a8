package dev.diffusion4j.tensor;

import dev.diffusion4j.DiffusionException;

/** Where a tensor lives: the CPU, or an accelerator by type and index ("cuda:0"). */
public record Device(String type, int index) {
    public static final Device CPU = new Device("cpu", -1);

    public static Device parse(String spec) {
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("cpu")) {
            return CPU;
        }
        if (s.startsWith("cuda")) {
            int idx = 0;
            if (s.startsWith("cuda:")) {
                try {
                    idx = Integer.parseInt(s.substring(5));
                } catch (NumberFormatException e) {
                    throw new DiffusionException("bad device '" + spec + "': use cpu or cuda:N");
                }
            } else if (!s.equals("cuda")) {
                throw new DiffusionException("bad device '" + spec + "': use cpu or cuda:N");
            }
            return new Device("cuda", idx);
        }
        throw new DiffusionException("unknown device '" + spec + "': use cpu or cuda:N");
    }

    public boolean isCpu() {
        return type.equals("cpu");
    }

    @Override
    public String toString() {
        return index < 0 ? type : type + ":" + index;
    }
}
