# Configuration front ends (config-frontend): generated reference and the parse benchmark.
.PHONY: docs bench-config-parse

docs: docs/config.md

docs/config.md: $(shell find src/config -name '*.ts' 2>/dev/null)
	$(BUN) src/config/docs.ts > docs/config.md.tmp && mv docs/config.md.tmp docs/config.md

# lbctl check (compiled) vs keepalived -t on a generated 10,000-instance configuration, in a namespace.
bench-config-parse: build
	$(BUN) bench/config-parse/run.ts
