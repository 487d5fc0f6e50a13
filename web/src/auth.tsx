import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import * as authApi from "./api/auth";
import type { AuthState } from "./api/auth";

type AuthContextValue = {
  state: AuthState | null; // null while the session is being read
  setState: (state: AuthState) => void;
  refresh: () => Promise<void>;
  logout: () => Promise<void>;
};

const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState | null>(null);
  const refresh = useCallback(async () => {
    try {
      setState(await authApi.session());
    } catch {
      setState({ kind: "anonymous" });
    }
  }, []);
  const logout = useCallback(async () => {
    await authApi.logout();
    setState({ kind: "anonymous" });
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return <AuthContext.Provider value={{ state, setState, refresh, logout }}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
