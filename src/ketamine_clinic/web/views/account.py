"""A person's own account: change the password, reset it by an e-mailed link, and the
TOTP second factor."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_otp import login as otp_login

from ketamine_clinic.services import passwords, two_factor
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.web.permissions import actor
from ketamine_clinic.web.redirects import redirect_next


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label="Current password", widget=forms.PasswordInput)
    new_password1 = forms.CharField(label="New password", widget=forms.PasswordInput)
    new_password2 = forms.CharField(label="New password again", widget=forms.PasswordInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two new passwords differ.")
        return data


class SetPasswordForm(forms.Form):
    new_password1 = forms.CharField(label="New password", widget=forms.PasswordInput)
    new_password2 = forms.CharField(label="New password again", widget=forms.PasswordInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two new passwords differ.")
        return data


class ResetRequestForm(forms.Form):
    email = forms.EmailField(label="Your e-mail address")


def _fail(form: forms.Form, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = actor(request)
        try:
            passwords.do_change_own_password(
                user, form.cleaned_data["old_password"], form.cleaned_data["new_password1"]
            )
        except ServiceError as exc:
            _fail(form, exc)
        else:
            update_session_auth_hash(request, user)  # stay logged in here; other sessions end
            messages.success(request, "Your password is changed.")
            return redirect("home")
    return render(request, "account/password.html", {"form": form, "title": "Change your password"})


def password_reset(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        passwords.do_request_password_reset(form.cleaned_data["email"], base_url=request.build_absolute_uri("/"))
        return render(request, "account/reset_sent.html")
    return render(request, "account/reset.html", {"form": form})


def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    if passwords.user_for_reset_link(uidb64, token) is None:
        return render(request, "account/reset_invalid.html", status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.do_reset_password(uidb64, token, form.cleaned_data["new_password1"])
        except ServiceError as exc:
            _fail(form, exc)
        else:
            messages.success(request, "Your password is changed. Log in with it now.")
            return redirect("login")
    return render(request, "account/password.html", {"form": form, "title": "Choose a new password"})


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    device = two_factor.pending_device(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.do_confirm_totp(user, form.cleaned_data["token"])
        except ServiceError as exc:
            _fail(form, exc)
        else:
            otp_login(request, device)
            messages.success(request, "Two-factor log-in is on for your account.")
            return redirect_next(request, request.GET.get("next"), "home")
    return render(
        request,
        "account/two_factor_setup.html",
        {"form": form, "secret": two_factor.secret_text(device), "uri": device.config_url},
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    if two_factor.confirmed_device(user) is None:
        return redirect("two-factor-setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.do_verify_totp(user, form.cleaned_data["token"])
        except ServiceError as exc:
            _fail(form, exc)
        else:
            otp_login(request, device)
            return redirect_next(request, request.GET.get("next"), "home")
    return render(request, "account/two_factor_verify.html", {"form": form})
