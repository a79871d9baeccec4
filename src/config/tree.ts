// The located keyword tree: what the keepalived.conf lexer produces and what the
// schema-driven parser consumes. TOML is mapped onto the same tree so both front ends
// share every validation and default.
export interface SourceLoc { file: string; line: number; col: number }
export interface ConfNode {
  keyword: string;          // first word of the statement, e.g. "vrrp_instance", "priority", "192.168.1.1/24"
  args: string[];           // remaining words on the line (quotes removed, escapes resolved)
  argLocs: SourceLoc[];     // location of each arg
  loc: SourceLoc;           // location of the keyword
  children?: ConfNode[];    // present when the statement opens a block with "{"
  endLoc?: SourceLoc;       // location of the closing "}"
}
