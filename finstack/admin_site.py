from django_otp.admin import OTPAdminSite


class AdminSite(OTPAdminSite):
    site_header = "Finstack back office"
    site_title = "Finstack"
    index_title = "Operations"
