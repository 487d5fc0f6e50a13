import { Suspense } from "react";
import { BrowserRouter, Navigate, NavLink, Outlet, Route, Routes } from "react-router-dom";
import { AuthProvider, useAuth } from "./auth";
import { Loading } from "./components/ui";
import { LoginScreen, SignupScreen, TwoFactorScreen, VerifyEmailScreen } from "./screens/Auth";
import { SendScreen } from "./screens/Send";
import { WalletScreen, WalletsScreen } from "./screens/Wallets";
import More, { UnreadBadge } from "./screens/More";

const NAV: [string, string][] = [
  ["/", "Wallets"],
  ["/send", "Send"],
  ["/notifications", "Inbox"],
  ["/more", "More"],
];

function Shell() {
  const { state, logout } = useAuth();
  if (state === null) return <Loading label="Starting…" />;
  if (state.kind === "verify_email") return <Navigate to="/verify" replace />;
  if (state.kind === "mfa") return <Navigate to="/2fa" replace />;
  if (state.kind !== "authenticated") return <Navigate to="/login" replace />;
  return (
    <div className="mx-auto flex min-h-screen max-w-2xl flex-col">
      <a href="#main" className="sr-only focus:not-sr-only">Skip to content</a>
      <header className="flex items-center justify-between p-4">
        <span className="text-xl font-black text-teal-800">Finstack</span>
        <div className="flex items-center gap-3">
          <span className="hidden text-sm text-slate-600 sm:inline">{state.email}</span>
          <button className="min-h-11 rounded-lg px-3 font-semibold text-teal-800 underline" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" className="flex-1 px-4 pb-24">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
      <nav aria-label="Main" className="fixed inset-x-0 bottom-0 border-t border-slate-200 bg-white">
        <ul className="mx-auto grid max-w-2xl grid-cols-4">
          {NAV.map(([to, label]) => (
            <li key={to}>
              <NavLink to={to} end={to === "/"}
                className={({ isActive }) => `flex min-h-14 items-center justify-center gap-1 font-semibold ${isActive ? "text-teal-800" : "text-slate-600"}`}>
                {label}
                {to === "/notifications" && <UnreadBadge />}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
    </div>
  );
}

export default function App() {
  return (
    <BrowserRouter basename="/app">
      <AuthProvider>
        <Routes>
          <Route path="/login" element={<LoginScreen />} />
          <Route path="/signup" element={<SignupScreen />} />
          <Route path="/verify" element={<VerifyEmailScreen />} />
          <Route path="/2fa" element={<TwoFactorScreen />} />
          <Route element={<Shell />}>
            <Route index element={<WalletsScreen />} />
            <Route path="/wallets/:walletId" element={<WalletScreen />} />
            <Route path="/send" element={<SendScreen />} />
            <Route path="/*" element={<More />} />
          </Route>
        </Routes>
      </AuthProvider>
    </BrowserRouter>
  );
}
