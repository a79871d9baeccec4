// The namespace lab lives in src/lab/ because `lbctl demo` uses it too.
export * from "../../src/lab/netns.ts";
