// What validation may ask of the machine, injected so checks stay pure and testable.
// `lbctl check` passes the real machine; tests pass fakes.
export interface CheckEnv {
  /** Interfaces of the namespace the check runs in; undefined = do not check interfaces. */
  interfaceExists?(name: string): boolean;
  /** Does network namespace NAME exist (/run/netns/NAME)? Undefined = do not check (with interfaces). */
  netnsExists?(name: string): boolean;
  /** Check interfaces in network namespace NAME from now on (the configuration's net_namespace). */
  useNamespace?(name: string): void;
  /** For scripts named by vrrp_script, notify*, MISC_CHECK ... */
  fileExists(path: string): boolean;
  isExecutable(path: string): boolean;
  /** Does this user exist (script_user, vrrp_script user)? */
  userExists(name: string): boolean;
  hostname: string;
}
