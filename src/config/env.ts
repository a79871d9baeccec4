// What validation may ask of the machine, injected so checks stay pure and testable.
// `lbctl check` passes the real machine; tests pass fakes.
export interface CheckEnv {
  /** Interfaces of the namespace the check runs in; undefined = do not check interfaces. */
  interfaceExists?(name: string): boolean;
  /** For scripts named by vrrp_script, notify*, MISC_CHECK ... */
  fileExists(path: string): boolean;
  isExecutable(path: string): boolean;
  /** Does this user exist (script_user, vrrp_script user)? */
  userExists(name: string): boolean;
  hostname: string;
}
